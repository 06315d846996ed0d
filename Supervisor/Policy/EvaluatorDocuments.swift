import Foundation

/// Virtual documents (rules), the `data` tree, and calls.
extension Evaluator {
    // MARK: data

    func override(at path: [String]) -> Value? {
        for (p, v) in state.dataOverrides.reversed() where p == path { return v }
        return nil
    }

    /// Applies `with data...` overrides strictly below `path` to a document at `path`.
    func applyOverrides(_ value: Value?, _ path: [String]) -> Value? {
        var out = value
        for (p, v) in state.dataOverrides where p.count > path.count && Array(p.prefix(path.count)) == path {
            out = Evaluator.setting(out ?? .emptyObject, p.dropFirst(path.count).map { Value.string($0) }, to: v)
        }
        return out
    }

    func evalDataRef(_ node: RuleNode?, _ base: Value?, _ at: [String], _ path: [Term], _ i: Int, _ f: Frame,
                     _ k: (Value) throws -> Void) throws {
        let overriding = !state.dataOverrides.isEmpty
        if overriding, let v = override(at: at) { return try walk(v, path, i, f, k) }
        if let node, node.hasRules, !node.isFunction {
            guard let v = try nodeValue(node) else { return }
            let doc = overriding ? applyOverrides(v, at) : v
            if let doc { try walk(doc, path, i, f, k) }
            return
        }
        if node == nil && !overriding {
            guard let base else { return }
            if case .object = base {} else { return try walk(base, path, i, f, k) }
        }
        if i == path.count {
            if let v = try namespaceValue(node, base, at) { try k(v) }
            return
        }
        let p = path[i]
        if case .local(let s, _, _) = p, f[s] == nil {
            var keys = Set<Value>()
            if let node { for (key, child) in node.children where child.hasDocuments { keys.insert(.string(key)) } }
            if case .object(let o)? = base { keys.formUnion(o.keys) }
            for key in keys.sorted() {
                f[s] = key
                defer { f[s] = nil }
                try descend(node, base, at, key, path, i, f, k)
            }
            return
        }
        if case .value(let key, _) = p { return try descend(node, base, at, key, path, i, f, k) }
        try evalTerm(p, f) { key in try self.descend(node, base, at, key, path, i, f, k) }
    }

    private func descend(_ node: RuleNode?, _ base: Value?, _ at: [String], _ key: Value, _ path: [Term], _ i: Int,
                         _ f: Frame, _ k: (Value) throws -> Void) throws {
        var key = key
        if case .number(let n) = key, n.isInteger, case .object? = base { key = .string(n.description) }
        let childBase = base?[key: key]
        if case .string(let s) = key {
            // The path so far matters only to `with data...` overrides.
            let next = state.dataOverrides.isEmpty ? at : at + [s]
            try evalDataRef(node?.children[s], childBase, next, path, i + 1, f, k)
        } else if let childBase {
            try walk(childBase, path, i + 1, f, k)
        }
    }

    /// The document at a namespace (package or plain data): base data merged with the rules below.
    func namespaceValue(_ node: RuleNode?, _ base: Value?, _ at: [String]) throws -> Value? {
        if let node, node.hasRules, !node.isFunction { return applyOverrides(try nodeValue(node), at) }
        guard let node, node.hasDocuments else { return applyOverrides(base, at) }
        var obj: RegoObject
        if case .object(let o)? = base { obj = o } else { obj = RegoObject() }
        for (key, child) in node.children where child.hasDocuments {
            // Where base data and a rule share a path, the document shows the base data, as OPA's does.
            if child.hasRules, obj[.string(key)] != nil { continue }
            if let cv = try namespaceValue(child, base?[key: .string(key)], at + [key]) {
                obj.set(.string(key), cv)
            }
        }
        return applyOverrides(.object(obj), at)
    }

    // MARK: Rules

    /// The value of the rules at a node (memoised for this evaluation and `with` scope).
    func nodeValue(_ node: RuleNode) throws -> Value? {
        let i = node.index
        if let cached = state.memo.documents[i] { return cached }
        guard !inProgress[i] else {
            let name = "data." + node.path.joined(separator: ".")
            throw PolicyError("rego_recursion_error", "rule \(name) is recursive: \(name) -> \(name)",
                              at: node.rules.first?.location)
        }
        inProgress[i] = true
        defer { inProgress[i] = false }
        let memo = state.memo
        let value = try computeNodeValue(node)
        memo.documents[i] = .some(value)
        return value
    }

    private func computeNodeValue(_ node: RuleNode) throws -> Value? {
        // Fast paths for the common shapes: one complete value, or one set, with nothing below.
        switch node.shape {
        case .complete:
            return try completeValue(node)
        case .partialSet:
            var elements: [Value] = []
            for r in node.rules {
                let f = takeFrame(r.frameSize)
                defer { recycle(f) }
                try evalBody(r.body, 0, f) { try self.evalTerm(r.value, f) { elements.append($0) } }
            }
            return .set(RegoSet(elements))
        case .general:
            break
        }
        let builder = DocumentBuilder()
        try collectDocument(node, [], builder)
        return builder.value
    }

    /// Adds what the rules at `node` (and below) produce, at `prefix` relative to the queried node.
    func collectDocument(_ node: RuleNode, _ prefix: [Value], _ builder: DocumentBuilder) throws {
        let rules = node.rules
        let loc = rules.first?.location
        if let first = rules.first ?? node.defaultRule, first.kind != .function {
            if rules.contains(where: { !$0.dynamicKeys.isEmpty }) {
                try builder.node(at: prefix, loc).ensureObject()
            }
            var completeValues: [Value] = []
            for r in rules {
                if r.kind == .multiValue {
                    let f = takeFrame(r.frameSize)
                    defer { recycle(f) }
                    if r.dynamicKeys.isEmpty { try builder.insertElement(prefix, nil, r.location) }
                    try evalBody(r.body, 0, f) {
                        try self.evalTerms(r.dynamicKeys, f) { keys in
                            try self.evalTerm(r.value, f) { v in try builder.insertElement(prefix + keys, v, r.location) }
                        }
                    }
                } else if !r.dynamicKeys.isEmpty {
                    let f = takeFrame(r.frameSize)
                    defer { recycle(f) }
                    try evalBody(r.body, 0, f) {
                        try self.evalTerms(r.dynamicKeys, f) { keys in
                            try self.evalTerm(r.value, f) { v in try builder.insert(prefix + keys, v, r.location) }
                        }
                    }
                } else {
                    for v in try ruleValues(r, args: nil) where !completeValues.contains(v) {
                        completeValues.append(v)
                        if completeValues.count > 1 {
                            throw PolicyError("eval_conflict_error", "complete rules must not produce multiple outputs", at: r.location)
                        }
                    }
                }
            }
            var result = completeValues.first
            if result == nil, let d = node.defaultRule, rules.allSatisfy({ $0.dynamicKeys.isEmpty && $0.kind == .singleValue }) {
                let f = takeFrame(d.frameSize)
                defer { recycle(f) }
                try evalTerm(d.value, f) { v in if result == nil { result = v } }
            }
            if let result { try builder.insert(prefix, result, loc) }
        }
        for (key, child) in node.children where child.hasDocuments {
            try collectDocument(child, prefix + [.string(key)], builder)
        }
    }

    /// Sets `keys` (a path) in a nested object; a different value at the same keys is a conflict.
    static func inserting(_ obj: RegoObject, _ keys: [Value], _ value: Value, at loc: SourceLocation) throws -> RegoObject {
        var out = obj
        guard let first = keys.first else { return out }
        if keys.count == 1 {
            if let existing = out[first], existing != value {
                throw PolicyError("eval_conflict_error", "object keys must be unique", at: loc)
            }
            out.set(first, value)
            return out
        }
        let child: RegoObject
        switch out[first] {
        case .object(let o)?: child = o
        case nil: child = RegoObject()
        default: throw PolicyError("eval_conflict_error", "object keys must be unique", at: loc)
        }
        out.set(first, .object(try inserting(child, Array(keys.dropFirst()), value, at: loc)))
        return out
    }

    /// The value of complete rules at a node, or their default.
    func completeValue(_ node: RuleNode) throws -> Value? {
        var result: Value?
        for r in node.rules {
            try forEachValue(r, args: nil) { v in
                guard let existing = result else { result = v; return }
                if existing != v {
                    throw PolicyError("eval_conflict_error", "complete rules must not produce multiple outputs", at: r.location)
                }
            }
        }
        if let v = result { return v }
        guard let d = node.defaultRule else { return nil }
        if let c = d.constantValue { return c }
        let f = takeFrame(d.frameSize)
        defer { recycle(f) }
        try evalTerm(d.value, f) { v in if result == nil { result = v } }
        return result
    }

    /// Calls `body` with each value one rule produces (duplicates possible); without an
    /// `else` chain this needs no array of values.
    func forEachValue(_ r: CompiledRule, args: [Value]?, _ body: (Value) throws -> Void) throws {
        if args == nil, let c = r.constantValue { return try body(c) }
        guard r.elses.isEmpty else {
            for v in try ruleValues(r, args: args) { try body(v) }
            return
        }
        let f = takeFrame(r.frameSize)
        defer { recycle(f) }
        if let args {
            try unifyArray(r.args, args, 0, f) {
                try self.evalBody(r.body, 0, f) { try self.evalTerm(r.value, f, body) }
            }
        } else {
            try evalBody(r.body, 0, f) { try self.evalTerm(r.value, f, body) }
        }
    }

    /// The values one rule (with its `else` chain) produces; `args` are bound first for functions.
    func ruleValues(_ r: CompiledRule, args: [Value]?) throws -> [Value] {
        if args == nil, let c = r.constantValue { return [c] }
        let f = takeFrame(r.frameSize)
        defer { recycle(f) }
        var values: [Value] = []
        let bindArgs: (() throws -> Void) throws -> Void = { k in
            if let args { try self.unifyArray(r.args, args, 0, f, k) } else { try k() }
        }
        if r.elses.isEmpty {
            try bindArgs {
                try self.evalBody(r.body, 0, f) {
                    try self.evalTerm(r.value, f) { v in if !values.contains(v) { values.append(v) } }
                }
            }
            return values
        }
        let branches = [(r.value, r.body)] + r.elses.map { ($0.value, $0.body) }
        for (valueTerm, body) in branches {
            try bindArgs {
                try self.evalBody(body, 0, f) {
                    try self.evalTerm(valueTerm, f) { v in if !values.contains(v) { values.append(v) } }
                }
            }
            if !values.isEmpty { return values }
        }
        return values
    }

    // MARK: Calls

    /// Calls `target` with the values of the first `count` of `argTerms`.
    func evalCall(_ target: CallTarget, _ argTerms: [Term], count: Int, _ loc: SourceLocation, _ f: Frame,
                  _ k: (Value) throws -> Void) throws {
        try evalArgs(argTerms, count: count, f) { args in
            var target = target
            if !self.state.mocks.isEmpty {
                let key = Evaluator.mockKey(target)
                switch self.state.mocks[key] {
                case .value(let v)?: return try k(v)
                case .target(let t)?:
                    target = t
                    // The replacement sees the originals: mocks do not apply inside mocks.
                    let saved = self.state
                    self.state.mocks = [:]
                    self.state.memo = Memo(nodes: self.nodeCount)
                    var results: [Value] = []
                    do {
                        defer { self.state = saved }
                        try self.invoke(target, args, loc) { results.append($0) }
                    }
                    for v in results { try k(v) }
                    return
                case nil: break
                }
            }
            try self.invoke(target, args, loc, k)
        }
    }

    func invoke(_ target: CallTarget, _ args: [Value], _ loc: SourceLocation, _ k: (Value) throws -> Void) throws {
        do {
            switch target {
            case .builtin(let b):
                try self.callBuiltin(b, args, loc, k)
            case .function(let fn):
                if let v = try self.callFunction(fn, args, loc) { try k(v) }
            }
        }
    }

    /// Evaluates operands; unbound plain variables last, so refs in other operands bind them first
    /// (`x == xs[x]`).
    func evalArgs(_ allTerms: [Term], count: Int, _ f: Frame, _ k: ([Value]) throws -> Void) throws {
        let deferred = allTerms[..<count].contains { if case .local(let s, _, _) = $0 { return f[s] == nil }; return false }
        if !deferred { return try evalTerms(allTerms, count: count, f, k) }
        let terms = Array(allTerms[..<count])
        let order = terms.indices.sorted { a, b in
            let ra = terms[a].isLocal ? 1 : 0, rb = terms[b].isLocal ? 1 : 0
            return ra == rb ? a < b : ra < rb
        }
        try evalTerms(order.map { terms[$0] }, f) { values in
            var out = values
            for (j, i) in order.enumerated() { out[i] = values[j] }
            try k(out)
        }
    }

    static func mockKey(_ t: CallTarget) -> String {
        switch t {
        case .builtin(let b): return b.name
        case .function(let fn): return fn.name
        }
    }

    func callBuiltin(_ b: Builtin, _ args: [Value], _ loc: SourceLocation, _ k: (Value) throws -> Void) throws {
        if let fn = b.function {
            // Most builtins: one result or none, so no results array.
            let result: Value?
            do { result = try fn(args, context) } catch let e as BuiltinError { return try failed(b, e, loc) }
            if let result { try k(result) }
            return
        }
        guard let rel = b.relation else { return }
        let results: [Value]
        do { results = try rel(args, context) } catch let e as BuiltinError { return try failed(b, e, loc) }
        for v in results { try k(v) }
    }

    /// A builtin's error: undefined, or an evaluation error when strict or halting.
    func failed(_ b: Builtin, _ e: BuiltinError, _ loc: SourceLocation) throws {
        if case .halt = e.kind {
            throw PolicyError(e.code, "\(b.name): \(e.message)", at: loc)
        }
        if context.strictErrors { throw PolicyError(e.code, "\(b.name): \(e.message)", at: loc) }
    }

    func callFunction(_ fn: FunctionRef, _ args: [Value], _ loc: SourceLocation) throws -> Value? {
        guard let node = fn.node ?? root.node(at: fn.path) else { return nil }
        let key = ObjectIdentifier(node)
        if let cached = state.memo.functions[key]?[args] { return cached }
        functionDepth += 1
        defer { functionDepth -= 1 }
        if functionDepth > 500 {
            throw PolicyError("rego_recursion_error", "function \(fn.name) is recursive", at: loc)
        }
        var result: Value?
        for r in node.rules {
            try forEachValue(r, args: args) { v in
                guard let existing = result else { result = v; return }
                if existing != v {
                    throw PolicyError("eval_conflict_error", "functions must not produce multiple outputs for same inputs", at: r.location)
                }
            }
        }
        if result == nil, let d = node.defaultRule {
            result = try ruleValues(d, args: args).first
        }
        state.memo.functions[key, default: [:]][args] = .some(result)
        return result
    }
}
