import BigInt
import Foundation

/// Thrown to stop enumerating once an answer is known (`not`, `every`, `else`).
struct FoundSolution: Error { let id: Int }

/// Per-`with`-scope memory of virtual documents and function results.
final class Memo {
    /// Documents by `RuleNode.index`; the outer nil is "not computed yet".
    var documents: [Value??]
    var functions: [ObjectIdentifier: [[Value]: Value?]] = [:]

    init(nodes: Int) { documents = Array(repeating: nil, count: nodes) }
}

/// A function or builtin replaced by `with`.
enum Mock {
    case value(Value)
    case target(CallTarget)
}

/// The state `with` changes: input, overridden data, mocked functions, and the memo valid under them.
struct WithState {
    var input: Value?
    var dataOverrides: [([String], Value)] = []
    var mocks: [String: Mock] = [:]
    var memo: Memo
}

/// Evaluates compiled rules and queries top-down, by backtracking with continuations.
/// One evaluator serves one evaluation (it holds the memo and budgets).
///
/// The continuations are non-escaping closures passed down mutually recursive functions.
/// The SIL closure specializer would clone those functions for every closure they receive,
/// without bound, so the Policy target disables that one pass (`Package.swift`); everything
/// else is optimized as usual.
final class Evaluator {
    let root: RuleNode
    let baseData: Value
    let context: BuiltinContext
    var state: WithState
    let stepLimit: Int
    let deadline: Date?
    var steps = 0
    var nextExitID = 0
    /// Rule nodes being computed, by `RuleNode.index`: meeting one again is recursion.
    var inProgress: [Bool]
    let nodeCount: Int
    var functionDepth = 0
    let frames: FramePool

    init(root: RuleNode, nodeCount: Int, baseData: Value, input: Value?, context: BuiltinContext, stepLimit: Int,
         deadline: Date?, frames: FramePool = FramePool()) {
        self.root = root
        self.frames = frames
        self.nodeCount = nodeCount
        self.inProgress = Array(repeating: false, count: nodeCount)
        self.baseData = baseData
        self.context = context
        self.state = WithState(input: input, memo: Memo(nodes: nodeCount))
        self.stepLimit = stepLimit
        self.deadline = deadline
    }

    func exitID() -> Int { nextExitID += 1; return nextExitID }

    /// A clean frame; hand it back with `recycle` when the rule's evaluation is over.
    func takeFrame(_ size: Int) -> Frame { frames.take(size) }
    func recycle(_ f: Frame) { frames.give(f) }

    func tick(_ loc: SourceLocation) throws {
        steps += 1
        if steps > stepLimit {
            throw PolicyError("eval_budget_error", "evaluation exceeded its budget of \(stepLimit) steps",
                              at: loc.row == 0 ? nil : loc)
        }
        if steps & 1023 == 0, let d = deadline, Date() > d {
            throw PolicyError("eval_cancel_error", "evaluation exceeded its time budget", at: loc)
        }
    }

    // MARK: Bodies and expressions

    func evalBody(_ body: Body, _ i: Int, _ f: Frame, _ k: () throws -> Void) throws {
        if i == body.count { return try k() }
        try evalExpr(body[i], f) { try self.evalBody(body, i + 1, f, k) }
    }

    func evalExpr(_ e: Expr, _ f: Frame, _ k: () throws -> Void) throws {
        try tick(e.location)
        if !e.withs.isEmpty { return try evalWith(e, f, k) }
        if e.negated {
            let id = exitID()
            var found = false
            do {
                try evalExprCore(e, f) { found = true; throw FoundSolution(id: id) }
            } catch let s as FoundSolution where s.id == id {}
            if !found { try k() }
            return
        }
        try evalExprCore(e, f, k)
    }

    func evalWith(_ e: Expr, _ f: Frame, _ k: () throws -> Void) throws {
        guard let inner = try withState(e.withs, f) else { return }
        var plain = e
        plain.withs = []
        let outer = state
        state = inner
        defer { state = outer }
        try evalExpr(plain, f) {
            let scoped = self.state
            self.state = outer
            defer { self.state = scoped }
            try k()
        }
    }

    /// The state under `with` modifiers, or nil when a replacement value is undefined.
    func withState(_ withs: [WithModifier], _ f: Frame) throws -> WithState? {
        var inner = state
        inner.memo = Memo(nodes: nodeCount)
        for w in withs {
            var value: Value?
            if w.replacement == nil {
                try evalTerm(w.value, f) { v in if value == nil { value = v } }
                guard value != nil else { return nil }
            }
            switch w.resolved {
            case .input(let path)?:
                if let v = value { inner.input = path.isEmpty ? v : Evaluator.setting(inner.input ?? .emptyObject, path, to: v) }
            case .data(let path)?:
                if let v = value { inner.dataOverrides.append((path, v)) }
            case .function(let name)?:
                if let r = w.replacement { inner.mocks[name] = .target(r) } else if let v = value { inner.mocks[name] = .value(v) }
            case nil: break
            }
        }
        return inner
    }

    /// `value` with `path` set to `newValue`, creating objects on the way.
    static func setting(_ value: Value, _ path: [Value], to newValue: Value) -> Value {
        guard let first = path.first else { return newValue }
        var obj = value.objectValue ?? RegoObject()
        let child = obj[first] ?? .emptyObject
        obj.set(first, setting(child, Array(path.dropFirst()), to: newValue))
        return .object(obj)
    }

    func evalExprCore(_ e: Expr, _ f: Frame, _ k: () throws -> Void) throws {
        switch e.kind {
        case .term(let t):
            if case .resolvedCall(let target, let args, let loc) = t, args.count == arity(of: target) + 1 {
                guard let out = args.last else { return }
                try evalCall(target, args, count: args.count - 1, loc, f) { v in try self.unify(out, v, f, k) }
                return
            }
            try evalTerm(t, f) { v in
                if case .bool(false) = v { return }
                try k()
            }
        case .unify(let a, let b):
            try unifyTerms(a, b, f, k)
        case .assign(let a, let b):
            try evalTerm(b, f) { v in try self.unify(a, v, f, k) }
        case .some:
            try k()
        case .someIn(let key, let value, let collection):
            try evalTerm(collection, f) { c in
                try self.iterate(c) { kv, vv in
                    if let key {
                        try self.unify(key, kv, f) { try self.unify(value, vv, f, k) }
                    } else {
                        try self.unify(value, vv, f, k)
                    }
                }
            }
        case .every(let key, let value, let domain, let body):
            var sawDomain = false
            var allHold = true
            try evalTerm(domain, f) { d in
                guard d.isCollection else { return }
                sawDomain = true
                try self.iterate(d) { kv, vv in
                    guard allHold else { return }
                    let id = self.exitID()
                    var held = false
                    do {
                        let run: () throws -> Void = { try self.evalBody(body, 0, f) { held = true; throw FoundSolution(id: id) } }
                        if let key {
                            try self.unify(key, kv, f) { try self.unify(value, vv, f, run) }
                        } else {
                            try self.unify(value, vv, f, run)
                        }
                    } catch let s as FoundSolution where s.id == id {}
                    if !held { allHold = false }
                }
            }
            if sawDomain && allHold { try k() }
        }
    }

    /// Calls `body(key, value)` for each element: array (index, element), object (key, value), set (element, element).
    func iterate(_ c: Value, _ body: (Value, Value) throws -> Void) throws {
        // Each element counts as a step, so nested iteration cannot escape the budget.
        switch c {
        case .array(let a): for (i, v) in a.enumerated() { try countStep(); try body(Value(i), v) }
        case .object(let o): for i in 0..<o.count { try countStep(); try body(o.keys[i], o.values[i]) }
        case .set(let s): for v in s.elements { try countStep(); try body(v, v) }
        default: break
        }
    }

    @inline(__always)
    func countStep() throws {
        steps += 1
        if steps > stepLimit || steps & 1023 == 0 { try tick(SourceLocation(file: "", row: 0, col: 0)) }
    }

    func arity(of target: CallTarget) -> Int {
        switch target {
        case .builtin(let b): return b.arity
        case .function(let fn): return fn.arity
        }
    }

    // MARK: Unification

    func isUnboundPattern(_ t: Term, _ f: Frame) -> Bool {
        switch t {
        case .local(let s, _, _): return f[s] == nil
        case .array(let items, _): return items.contains { isUnboundPattern($0, f) }
        case .object(let pairs, _): return pairs.contains { isUnboundPattern($0.1, f) }
        default: return false
        }
    }

    func unifyTerms(_ a: Term, _ b: Term, _ f: Frame, _ k: () throws -> Void) throws {
        if case .array(let xs, _) = a, case .array(let ys, _) = b, xs.count == ys.count,
           isUnboundPattern(a, f) || isUnboundPattern(b, f) {
            return try unifyPairs(Array(zip(xs, ys)), 0, f, k)
        }
        if case .object(let xs, _) = a, case .object(let ys, _) = b, xs.count == ys.count,
           isUnboundPattern(a, f) || isUnboundPattern(b, f) {
            var pairs: [(Term, Term)] = []
            for (xk, xv) in xs {
                guard let xkv = xk.constant, let match = ys.first(where: { $0.0.constant == xkv }) else { break }
                pairs.append((xv, match.1))
            }
            if pairs.count == xs.count { return try unifyPairs(pairs, 0, f, k) }
        }
        if isUnboundPattern(a, f) {
            if isUnboundPattern(b, f), case .local(_, let name, let loc) = b {
                if case .local = a { throw PolicyError("rego_unsafe_var_error", "var \(name) is unsafe", at: loc) }
            }
            if !isUnboundPattern(b, f) || !(b.isLocal) {
                return try evalTerm(b, f) { v in try self.unify(a, v, f, k) }
            }
        }
        if isUnboundPattern(b, f) {
            return try evalTerm(a, f) { v in try self.unify(b, v, f, k) }
        }
        try evalTerm(a, f) { v in try self.unify(b, v, f, k) }
    }

    func unifyPairs(_ pairs: [(Term, Term)], _ i: Int, _ f: Frame, _ k: () throws -> Void) throws {
        if i == pairs.count { return try k() }
        try unifyTerms(pairs[i].0, pairs[i].1, f) { try self.unifyPairs(pairs, i + 1, f, k) }
    }

    /// Binds the variables of `pattern` so that it equals `value`, then continues.
    func unify(_ pattern: Term, _ value: Value, _ f: Frame, _ k: () throws -> Void) throws {
        switch pattern {
        case .local(let s, _, _):
            if let bound = f[s] {
                if bound == value { try k() }
                return
            }
            f[s] = value
            defer { f[s] = nil }
            try k()
        case .value(let v, _):
            if v == value { try k() }
        case .array(let items, _):
            guard case .array(let vs) = value, vs.count == items.count else { return }
            try unifyArray(items, vs, 0, f, k)
        case .object(let pairs, _):
            guard case .object(let o) = value, o.count == pairs.count else { return }
            try unifyObject(pairs, o, 0, f, k)
        default:
            try evalTerm(pattern, f) { pv in if pv == value { try k() } }
        }
    }

    func unifyArray(_ items: [Term], _ values: [Value], _ i: Int, _ f: Frame, _ k: () throws -> Void) throws {
        if i == items.count { return try k() }
        try unify(items[i], values[i], f) { try self.unifyArray(items, values, i + 1, f, k) }
    }

    func unifyObject(_ pairs: [(Term, Term)], _ o: RegoObject, _ i: Int, _ f: Frame, _ k: () throws -> Void) throws {
        if i == pairs.count { return try k() }
        try evalTerm(pairs[i].0, f) { key in
            guard let v = o[key] else { return }
            try self.unify(pairs[i].1, v, f) { try self.unifyObject(pairs, o, i + 1, f, k) }
        }
    }

    // MARK: Terms

    func evalTerm(_ t: Term, _ f: Frame, _ k: (Value) throws -> Void) throws {
        // The common leaves first, in a switch of their own: the large switch below copies
        // the whole term before it dispatches.
        switch t {
        case .value(let v, _):
            return try k(v)
        case .local(let s, let name, let loc):
            guard let v = f[s] else {
                throw PolicyError("rego_unsafe_var_error", "var \(name.hasPrefix("_$") ? "_" : name) is unsafe", at: loc)
            }
            return try k(v)
        case .ref, .array, .set, .object, .resolvedCall, .documentRef:
            // Ground terms have one value at most: compute it directly (EvaluatorSingle.swift).
            if isSingle(t, f) {
                if let v = try value(of: t, f) { try k(v) }
                return
            }
        default:
            break
        }
        try evalCompound(t, f, k)
    }

    /// Terms that may have several values, and the rarer kinds.
    private func evalCompound(_ t: Term, _ f: Frame, _ k: (Value) throws -> Void) throws {
        switch t {
        case .value, .local:
            try evalTerm(t, f, k)
        case .variable(let name, _):
            if name == "input" {
                if let i = state.input { try k(i) }
            } else if name == "data" {
                try evalDataRef(root, baseData, [], [], 0, f, k)
            }
        case .ref(let head, let path, _):
            switch head {
            case .variable("data", _):
                try evalDataRef(root, baseData, [], path, 0, f, k)
            case .variable("input", _):
                if let i = state.input { try walk(i, path, 0, f, k) }
            default:
                try evalTerm(head, f) { v in try self.walk(v, path, 0, f, k) }
            }
        case .array(let items, _):
            try evalTerms(items, f) { try k(.array($0)) }
        case .set(let items, _):
            try evalTerms(items, f) { try k(.set(RegoSet($0))) }
        case .object(let pairs, _):
            var keys: [Value] = [], values: [Value] = []
            keys.reserveCapacity(pairs.count)
            values.reserveCapacity(pairs.count)
            try evalObject(pairs, 0, &keys, &values, f, k)
        case .arrayComprehension(let head, let body, _):
            var out: [Value] = []
            try evalBody(body, 0, f) { try self.evalTerm(head, f) { out.append($0) } }
            try k(.array(out))
        case .setComprehension(let head, let body, _):
            var out: [Value] = []
            try evalBody(body, 0, f) { try self.evalTerm(head, f) { out.append($0) } }
            try k(.set(RegoSet(out)))
        case .objectComprehension(let kt, let vt, let body, let loc):
            var out: [Value: Value] = [:]
            try evalBody(body, 0, f) {
                try self.evalTerm(kt, f) { key in
                    try self.evalTerm(vt, f) { value in
                        if let existing = out[key], existing != value {
                            throw PolicyError("eval_conflict_error", "object keys must be unique", at: loc)
                        }
                        out[key] = value
                    }
                }
            }
            try k(.object(RegoObject(out.map { ($0.key, $0.value) })))
        case .resolvedCall(let target, let args, let loc):
            if args.count == arity(of: target) + 1 {
                // A call with its output operand used as a term: true when the output unifies.
                guard let out = args.last else { return }
                try evalCall(target, args, count: args.count - 1, loc, f) { v in
                    try self.unify(out, v, f) { try k(.bool(true)) }
                }
                return
            }
            try evalCall(target, args, count: args.count, loc, f, k)
        case .call(_, _, let loc):
            throw PolicyError("rego_compile_error", "unresolved call", at: loc)
        case .template(let parts, _):
            try evalTemplate(parts, 0, "", f, k)
        case .documentRef(let ref, _):
            if !state.dataOverrides.isEmpty { return try evalTerm(ref.original, f, k) }
            guard let doc = try nodeValue(ref.node) else { return }
            try walk(doc, ref.rest, 0, f, k)
        }
    }

    func evalTemplate(_ parts: [TemplatePart], _ i: Int, _ acc: String, _ f: Frame, _ k: (Value) throws -> Void) throws {
        if i == parts.count { return try k(.string(acc)) }
        switch parts[i] {
        case .text(let s):
            try evalTemplate(parts, i + 1, acc + s, f, k)
        case .term(let t, let withs):
            var any = false
            var values: [Value] = []
            if withs.isEmpty {
                try evalTerm(t, f) { v in any = true; values.append(v) }
            } else if let inner = try withState(withs, f) {
                let outer = state
                state = inner
                defer { state = outer }
                try evalTerm(t, f) { v in any = true; values.append(v) }
            }
            if !any {
                try evalTemplate(parts, i + 1, acc + "<undefined>", f, k)
                return
            }
            guard let v = values.first else { return }
            if case .string(let s) = v {
                try evalTemplate(parts, i + 1, acc + s, f, k)
            } else {
                try evalTemplate(parts, i + 1, acc + v.regoText, f, k)
            }
        }
    }

    /// Every combination of the values of `terms[..<count]` (all of them by default).
    func evalTerms(_ terms: [Term], count: Int? = nil, _ f: Frame, _ k: ([Value]) throws -> Void) throws {
        let n = count ?? terms.count
        if n == terms.count, let all = Environment.constants(terms) { return try k(all) }
        if allSingle(terms, count: n, f) {
            if let values = try values(of: terms, count: n, f) { try k(values) }
            return
        }
        // One buffer, appended to and trimmed while backtracking.
        var acc: [Value] = []
        acc.reserveCapacity(n)
        try evalTerms(terms, 0, n, &acc, f, k)
    }

    private func evalTerms(_ terms: [Term], _ i: Int, _ n: Int, _ acc: inout [Value], _ f: Frame,
                           _ k: ([Value]) throws -> Void) throws {
        if i == n { return try k(acc) }
        try evalTerm(terms[i], f) { v in
            acc.append(v)
            defer { acc.removeLast() }
            try self.evalTerms(terms, i + 1, n, &acc, f, k)
        }
    }

    /// The object of `pairs`, for every combination of their keys' and values' values.
    func evalObject(_ pairs: [(Term, Term)], _ i: Int, _ keys: inout [Value], _ values: inout [Value], _ f: Frame,
                    _ k: (Value) throws -> Void) throws {
        if i == pairs.count { return try k(.object(RegoObject(keys: keys, values: values))) }
        try evalTerm(pairs[i].0, f) { key in
            try self.evalTerm(pairs[i].1, f) { value in
                keys.append(key)
                values.append(value)
                defer { keys.removeLast(); values.removeLast() }
                try self.evalObject(pairs, i + 1, &keys, &values, f, k)
            }
        }
    }

    /// Follows `path[i...]` into a value, enumerating unbound variables.
    func walk(_ value: Value, _ path: [Term], _ i: Int, _ f: Frame, _ k: (Value) throws -> Void) throws {
        if i == path.count { return try k(value) }
        let p = path[i]
        // Constant keys (`input.tenant.plan`) are the common case: no continuation needed.
        if case .value(let key, _) = p {
            if let child = value[key: key] { try walk(child, path, i + 1, f, k) }
            return
        }
        if case .local(let s, _, _) = p, f[s] == nil {
            try iterate(value) { key, child in
                f[s] = key
                defer { f[s] = nil }
                try self.walk(child, path, i + 1, f, k)
            }
            return
        }
        if isUnboundPattern(p, f) {
            try iterate(value) { key, child in
                try self.unify(p, key, f) { try self.walk(child, path, i + 1, f, k) }
            }
            return
        }
        try evalTerm(p, f) { key in
            if let child = value[key: key] { try self.walk(child, path, i + 1, f, k) }
        }
    }
}

extension Term {
    var isLocal: Bool { if case .local = self { return true }; return false }
}
