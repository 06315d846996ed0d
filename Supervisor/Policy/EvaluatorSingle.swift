/// Terms with at most one value, evaluated directly instead of through continuations.
///
/// Most terms in a policy are ground: constants, bound variables, refs with constant or
/// bound keys, calls of ordinary builtins and functions on such terms. Each has at most
/// one value, so a plain recursive function that returns it (nil when undefined) does the
/// work of the continuation-passing `evalTerm` without its nesting of closures. Whether a
/// term qualifies is decided before evaluating any of it (`isSingle`), so nothing runs twice.
///
/// Loops here go by index through buffer pointers: `for x in array` copies each element
/// out (reference counting its contents), where `buffer[i]` passed to a call is borrowed.
extension Evaluator {
    /// True when `t` has at most one value in the current bindings and `value(of:)` can compute it.
    func isSingle(_ t: Term, _ f: Frame) -> Bool {
        // Leaves in a switch without payload bindings, which would copy the term first.
        switch t {
        case .value: return true
        case .local(let s, _, _): return f[s] != nil
        case .arrayComprehension, .setComprehension, .objectComprehension:
            // A comprehension is one collection, whatever its body binds.
            return true
        case .call, .template: return false
        default: return isSingleComposite(t, f)
        }
    }

    private func isSingleComposite(_ t: Term, _ f: Frame) -> Bool {
        switch t {
        case .value, .local, .arrayComprehension, .setComprehension, .objectComprehension, .call, .template:
            return isSingle(t, f)
        case .variable(let name, _): return name == "input" || name == "data"
        case .ref(let head, let path, _):
            return isSingle(head, f) && allSingle(path, f)
        case .array(let items, _), .set(let items, _):
            return allSingle(items, f)
        case .object(let pairs, _):
            for i in pairs.indices where !isSingle(pairs[i].0, f) || !isSingle(pairs[i].1, f) { return false }
            return true
        case .resolvedCall(let target, let args, _):
            // Mocks may replace a function by a relation; outputs (`f(x, y)`) unify.
            guard state.mocks.isEmpty else { return false }
            switch target {
            case .builtin(let b): if b.function == nil || args.count != b.arity { return false }
            case .function(let fn): if args.count != fn.arity { return false }
            }
            return allSingle(args, f)
        case .documentRef(let ref, _):
            if !state.dataOverrides.isEmpty { return isSingle(ref.original, f) }
            return allSingle(ref.rest, f)
        }
    }

    func allSingle(_ terms: [Term], count: Int? = nil, _ f: Frame) -> Bool {
        terms.withUnsafeBufferPointer { ts in
            for i in 0..<(count ?? ts.count) where !isSingle(ts[i], f) { return false }
            return true
        }
    }

    /// The value of a term `isSingle` accepted; nil when undefined.
    func value(of t: Term, _ f: Frame) throws -> Value? {
        switch t {
        case .value(let v, _): return v
        case .local(let s, _, _): return f[s]
        default: return try compositeValue(t, f)
        }
    }

    private func compositeValue(_ t: Term, _ f: Frame) throws -> Value? {
        switch t {
        case .value, .local:
            return try value(of: t, f)
        case .variable(let name, _):
            if name == "input" { return state.input }
            return try dataValue([], f)
        case .ref(let head, let path, _):
            switch head {
            case .variable("data", _):
                return try dataValue(path, f)
            default:
                guard let h = try value(of: head, f) else { return nil }
                return try walkValue(h, path, 0, f)
            }
        case .array(let items, _):
            return try values(of: items, f).map { .array($0) }
        case .set(let items, _):
            return try values(of: items, f).map { .set(RegoSet($0)) }
        case .object(let pairs, _):
            var keys: [Value] = [], values: [Value] = []
            keys.reserveCapacity(pairs.count)
            values.reserveCapacity(pairs.count)
            for i in pairs.indices {
                guard let k = try value(of: pairs[i].0, f), let v = try value(of: pairs[i].1, f) else { return nil }
                keys.append(k)
                values.append(v)
            }
            return .object(RegoObject(keys: keys, values: values))
        case .arrayComprehension, .setComprehension, .objectComprehension:
            var out: Value?
            try evalTerm(t, f) { out = $0 }
            return out
        case .resolvedCall(let target, let argTerms, let loc):
            guard let args = try values(of: argTerms, f) else { return nil }
            switch target {
            case .builtin(let b):
                guard let fn = b.function else { return nil }
                do { return try fn(args, context) } catch let e as BuiltinError {
                    try failed(b, e, loc)
                    return nil
                }
            case .function(let fn):
                return try callFunction(fn, args, loc)
            }
        case .documentRef(let ref, _):
            if !state.dataOverrides.isEmpty { return try value(of: ref.original, f) }
            guard let doc = try nodeValue(ref.node) else { return nil }
            return try walkValue(doc, ref.rest, 0, f)
        case .call, .template:
            var out: Value?
            try evalTerm(t, f) { if out == nil { out = $0 } }
            return out
        }
    }

    /// The values of `terms[..<count]` (all by default); nil when one is undefined.
    func values(of terms: [Term], count: Int? = nil, _ f: Frame) throws -> [Value]? {
        let n = count ?? terms.count
        var out: [Value] = []
        out.reserveCapacity(n)
        return try terms.withUnsafeBufferPointer { ts in
            for i in 0..<n {
                guard let v = try value(of: ts[i], f) else { return nil }
                out.append(v)
            }
            return out
        }
    }

    /// `value` followed along ground `path[i...]`.
    func walkValue(_ value: Value, _ path: [Term], _ i: Int, _ f: Frame) throws -> Value? {
        var current = value
        return try path.withUnsafeBufferPointer { p in
            for j in i..<p.count {
                guard let key = try self.value(of: p[j], f), let child = current[key: key] else { return nil }
                current = child
            }
            return current
        }
    }

    /// The document at `data` + a ground `path`: rules where the path meets them, base data
    /// elsewhere. The same walk as `evalDataRef`/`descend`, without continuations.
    func dataValue(_ path: [Term], _ f: Frame) throws -> Value? {
        if !state.dataOverrides.isEmpty {
            var out: Value?
            try evalDataRef(root, baseData, [], path, 0, f) { if out == nil { out = $0 } }
            return out
        }
        var node: RuleNode? = root
        var base: Value? = baseData
        var i = 0
        while true {
            if let n = node, n.hasRules, !n.isFunction {
                guard let v = try nodeValue(n) else { return nil }
                return try walkValue(v, path, i, f)
            }
            if node == nil {
                guard let b = base else { return nil }
                if case .object = b {} else { return try walkValue(b, path, i, f) }
            }
            if i == path.count { return try namespaceValue(node, base, []) }
            guard var key = try value(of: path[i], f) else { return nil }
            if case .number(let n) = key, n.isInteger, case .object? = base { key = .string(n.description) }
            let childBase = base?[key: key]
            guard case .string(let s) = key else {
                guard let childBase else { return nil }
                return try walkValue(childBase, path, i + 1, f)
            }
            node = node?.children[s]
            base = childBase
            i += 1
        }
    }
}
