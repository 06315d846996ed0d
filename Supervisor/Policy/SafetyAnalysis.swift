/// Which of a scope's variables an expression needs bound before it runs (inputs) and
/// which it can bind (outputs). The compiler orders bodies with it and reports unsafe variables.
struct VarAnalysis {
    var inputs = Set<Int>()
    var outputs = Set<Int>()

    static func of(_ e: Expr, scope: Scope) -> VarAnalysis {
        var a = VarAnalysis()
        switch e.kind {
        case .term(let t):
            if case .resolvedCall(let target, let args, _) = t, args.count == a.arity(of: target) + 1 {
                for x in args.dropLast() { a.collect(x, scope: scope, pattern: false) }
                if let last = args.last { a.collect(last, scope: scope, pattern: true) }
            } else {
                a.collect(t, scope: scope, pattern: false)
            }
        case .unify(let l, let r):
            a.collect(l, scope: scope, pattern: true)
            a.collect(r, scope: scope, pattern: true)
        case .assign(let l, let r):
            a.collect(l, scope: scope, pattern: true)
            a.collect(r, scope: scope, pattern: false)
        case .some:
            break
        case .someIn(let k, let v, let c):
            if let k { a.collect(k, scope: scope, pattern: true) }
            a.collect(v, scope: scope, pattern: true)
            a.collect(c, scope: scope, pattern: false)
        case .every(_, _, let d, let body):
            a.collect(d, scope: scope, pattern: false)
            for x in body { a.collectClosure(x, scope: scope) }
        }
        for w in e.withs { a.collect(w.value, scope: scope, pattern: false) }
        if e.negated {
            // A negation binds nothing; its named variables must be bound elsewhere.
            for s in a.outputs where !scope.allocator.names[s].hasPrefix("_$") { a.inputs.insert(s) }
            a.outputs = []
        }
        a.inputs.subtract(a.outputs)
        return a
    }

    func arity(of target: CallTarget) -> Int {
        switch target {
        case .builtin(let b): return b.arity
        case .function(let fn): return fn.arity
        }
    }

    /// - Parameters:
    ///   - pattern: the term is unified, so bare variables (and those in array/object values) are bound by it.
    ///   - allSlots: count every slot, not only the scope's own (for head safety).
    mutating func collect(_ t: Term, scope: Scope, pattern: Bool, allSlots: Bool = false) {
        switch t {
        case .value, .variable: break
        case .documentRef(let ref, _): collect(ref.original, scope: scope, pattern: pattern, allSlots: allSlots)
        case .local(let s, _, _):
            guard allSlots || scope.owned.contains(s) else { return }
            if pattern { outputs.insert(s) } else { inputs.insert(s) }
        case .ref(let head, let path, _):
            collect(head, scope: scope, pattern: false, allSlots: allSlots)
            // Variables in keys are bound by iterating the collection.
            for p in path { collect(p, scope: scope, pattern: true, allSlots: allSlots) }
        case .array(let items, _):
            for i in items { collect(i, scope: scope, pattern: pattern, allSlots: allSlots) }
        case .object(let pairs, _):
            for (k, v) in pairs {
                collect(k, scope: scope, pattern: false, allSlots: allSlots)
                collect(v, scope: scope, pattern: pattern, allSlots: allSlots)
            }
        case .set(let items, _):
            for i in items { collect(i, scope: scope, pattern: false, allSlots: allSlots) }
        case .call(_, let args, _):
            for a in args { collect(a, scope: scope, pattern: false, allSlots: allSlots) }
        case .resolvedCall(let target, let args, _):
            // A nested call's extra operand is its output.
            let n = arity(of: target)
            for (i, a) in args.enumerated() { collect(a, scope: scope, pattern: i == n, allSlots: allSlots) }
        case .arrayComprehension(let h, let body, _), .setComprehension(let h, let body, _):
            collectClosureTerm(h, scope: scope)
            for x in body { collectClosure(x, scope: scope) }
        case .objectComprehension(let k, let v, let body, _):
            collectClosureTerm(k, scope: scope)
            collectClosureTerm(v, scope: scope)
            for x in body { collectClosure(x, scope: scope) }
        case .template(let parts, _):
            for case .term(let x, let withs) in parts {
                collect(x, scope: scope, pattern: false, allSlots: allSlots)
                for w in withs { collect(w.value, scope: scope, pattern: false, allSlots: allSlots) }
            }
        }
    }

    /// Variables of this scope used inside a nested closure are captured: they must be bound first.
    mutating func collectClosure(_ e: Expr, scope: Scope) {
        switch e.kind {
        case .term(let t): collectClosureTerm(t, scope: scope)
        case .unify(let a, let b), .assign(let a, let b): collectClosureTerm(a, scope: scope); collectClosureTerm(b, scope: scope)
        case .some(let vs): vs.forEach { collectClosureTerm($0, scope: scope) }
        case .someIn(let k, let v, let c):
            if let k { collectClosureTerm(k, scope: scope) }
            collectClosureTerm(v, scope: scope); collectClosureTerm(c, scope: scope)
        case .every(let k, let v, let d, let body):
            if let k { collectClosureTerm(k, scope: scope) }
            collectClosureTerm(v, scope: scope); collectClosureTerm(d, scope: scope)
            body.forEach { collectClosure($0, scope: scope) }
        }
        for w in e.withs { collectClosureTerm(w.value, scope: scope) }
    }

    mutating func collectClosureTerm(_ t: Term, scope: Scope) {
        var inner = VarAnalysis()
        inner.collect(t, scope: scope, pattern: false)
        inputs.formUnion(inner.inputs)
        inputs.formUnion(inner.outputs)
    }
}
