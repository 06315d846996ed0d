/// A reference into `data` whose leading constant keys reach a rule: `data.warden.plan.limits`
/// is the document of the node `warden.plan`, then `.limits`.
///
/// References to rules are most of what a policy reads, and finding the rule by walking
/// the tree key by key (string hashing at every step) cost more than the rest of the
/// lookup, so once a policy is compiled every such ref is resolved to its node
/// (`DocumentRefResolver`). The evaluator falls back to `original` under `with data...`.
final class DocumentRef: Sendable {
    /// The node with the rules: a complete, partial or namespace document.
    let node: RuleNode
    /// The path after the node.
    let rest: [Term]
    /// The ref as written (`data` and its whole path).
    let original: Term

    init(node: RuleNode, rest: [Term], original: Term) {
        self.node = node
        self.rest = rest
        self.original = original
    }
}

/// Rewrites the terms of compiled rules and queries so that refs into `data` that reach a
/// rule node become `.documentRef`. Runs after every check, on the finished rule tree.
struct DocumentRefResolver {
    let root: RuleNode

    /// Rewrites every rule in the tree, in place.
    func resolveAll() {
        func visit(_ n: RuleNode) {
            n.rules = n.rules.map(rule)
            n.defaultRule = n.defaultRule.map(rule)
            for c in n.children.values { visit(c) }
        }
        visit(root)
    }

    func rule(_ r: CompiledRule) -> CompiledRule {
        CompiledRule(kind: r.kind, isDefault: r.isDefault, path: r.path, dynamicKeys: r.dynamicKeys.map(term),
                     args: r.args.map(term), value: term(r.value), body: body(r.body),
                     elses: r.elses.map { ElseBranch(value: term($0.value), body: body($0.body), location: $0.location) },
                     frameSize: r.frameSize, location: r.location)
    }

    func body(_ b: Body) -> Body { b.map(expr) }

    func expr(_ e: Expr) -> Expr {
        var out = e
        switch e.kind {
        case .term(let t): out.kind = .term(term(t))
        case .unify(let a, let b): out.kind = .unify(term(a), term(b))
        case .assign(let a, let b): out.kind = .assign(term(a), term(b))
        case .some: break
        case .someIn(let k, let v, let c): out.kind = .someIn(key: k.map(term), value: term(v), collection: term(c))
        case .every(let k, let v, let d, let b): out.kind = .every(key: k.map(term), value: term(v), domain: term(d), body: body(b))
        }
        // `with` targets keep their written form; only the replacement values are evaluated.
        out.withs = e.withs.map { w in
            var w = w
            w.value = term(w.value)
            return w
        }
        return out
    }

    func term(_ t: Term) -> Term {
        switch t {
        case .value, .variable, .local, .documentRef:
            return t
        case .ref(let head, let path, let loc):
            let p = path.map(term)
            if case .variable("data", _) = head, let (node, depth) = ruleNode(p) {
                return .documentRef(DocumentRef(node: node, rest: Array(p[depth...]), original: .ref(head, p, loc)), loc)
            }
            return .ref(term(head), p, loc)
        case .array(let items, let loc): return .array(items.map(term), loc)
        case .set(let items, let loc): return .set(items.map(term), loc)
        case .object(let pairs, let loc): return .object(pairs.map { (term($0.0), term($0.1)) }, loc)
        case .arrayComprehension(let h, let b, let loc): return .arrayComprehension(term(h), body(b), loc)
        case .setComprehension(let h, let b, let loc): return .setComprehension(term(h), body(b), loc)
        case .objectComprehension(let k, let v, let b, let loc): return .objectComprehension(term(k), term(v), body(b), loc)
        case .call(let fn, let args, let loc): return .call(fn, args.map(term), loc)
        case .resolvedCall(let target, let args, let loc): return .resolvedCall(target, args.map(term), loc)
        case .template(let parts, let loc):
            return .template(parts.map { part in
                guard case .term(let x, let withs) = part else { return part }
                return .term(term(x), withs.map { w in
                    var w = w
                    w.value = term(w.value)
                    return w
                })
            }, loc)
        }
    }

    /// The first node along the constant string keys of `path` that holds document rules,
    /// and how many keys lead to it; nil when the keys leave the tree or reach none.
    func ruleNode(_ path: [Term]) -> (RuleNode, Int)? {
        var node = root
        for (i, p) in path.enumerated() {
            if node.hasRules { return node.isFunction ? nil : (node, i) }
            guard case .value(.string(let key), _) = p, let child = node.children[key] else { return nil }
            node = child
        }
        if node.hasRules && !node.isFunction { return (node, path.count) }
        return nil
    }
}
