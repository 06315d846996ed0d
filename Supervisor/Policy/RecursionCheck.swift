/// Finds rules that depend on themselves (directly or through other rules and functions),
/// which Rego forbids: `rego_recursion_error: rule data.a.p is recursive: data.a.p -> data.a.q -> data.a.p`.
struct RecursionCheck {
    let root: RuleNode
    private var edges: [ObjectIdentifier: [RuleNode]] = [:]

    init(root: RuleNode) { self.root = root }

    mutating func run() throws {
        var all: [RuleNode] = []
        func gather(_ n: RuleNode) {
            if n.hasRules { all.append(n) }
            n.children.values.forEach(gather)
        }
        gather(root)
        for n in all {
            var deps: [RuleNode] = []
            for r in n.rules + (n.defaultRule.map { [$0] } ?? []) {
                for t in r.args + r.dynamicKeys + [r.value] { dependencies(of: t, into: &deps) }
                for e in r.body { dependencies(of: e, into: &deps) }
                for b in r.elses {
                    dependencies(of: b.value, into: &deps)
                    for e in b.body { dependencies(of: e, into: &deps) }
                }
            }
            edges[ObjectIdentifier(n)] = deps
        }
        var state: [ObjectIdentifier: Int] = [:]  // 1 visiting, 2 done
        var stack: [RuleNode] = []
        func visit(_ n: RuleNode) throws {
            let id = ObjectIdentifier(n)
            if state[id] == 2 { return }
            if state[id] == 1 {
                let start = stack.firstIndex { $0 === n } ?? 0
                let cycle = (stack[start...] + [n]).map { "data." + $0.path.joined(separator: ".") }
                throw PolicyError("rego_recursion_error", "rule \(cycle[0]) is recursive: \(cycle.joined(separator: " -> "))",
                                  at: n.rules.first?.location ?? n.defaultRule?.location)
            }
            state[id] = 1
            stack.append(n)
            for d in edges[id] ?? [] { try visit(d) }
            stack.removeLast()
            state[id] = 2
        }
        for n in all { try visit(n) }
    }

    /// The rule nodes a `data` path can reach (nil keys match any key): the rule node on
    /// the path, or every rule below where the path ends.
    func nodes(for path: [String?]) -> [RuleNode] {
        var out: [RuleNode] = []
        func below(_ x: RuleNode) {
            if x.hasRules { out.append(x) }
            x.children.values.forEach(below)
        }
        func match(_ n: RuleNode, _ i: Int) {
            if n.hasRules { out.append(n); return }
            if i == path.count { return below(n) }
            if let k = path[i] {
                if let c = n.children[k] { match(c, i + 1) }
            } else {
                for c in n.children.values { match(c, i + 1) }
            }
        }
        match(root, 0)
        return out
    }

    func dependencies(of e: Expr, into deps: inout [RuleNode]) {
        switch e.kind {
        case .term(let t): dependencies(of: t, into: &deps)
        case .unify(let a, let b), .assign(let a, let b):
            dependencies(of: a, into: &deps)
            dependencies(of: b, into: &deps)
        case .some(let vs): vs.forEach { dependencies(of: $0, into: &deps) }
        case .someIn(let k, let v, let c):
            if let k { dependencies(of: k, into: &deps) }
            dependencies(of: v, into: &deps)
            dependencies(of: c, into: &deps)
        case .every(let k, let v, let d, let body):
            if let k { dependencies(of: k, into: &deps) }
            dependencies(of: v, into: &deps)
            dependencies(of: d, into: &deps)
            body.forEach { dependencies(of: $0, into: &deps) }
        }
        for w in e.withs { dependencies(of: w.value, into: &deps) }
    }

    func dependencies(of t: Term, into deps: inout [RuleNode]) {
        switch t {
        case .value, .local, .call: break
        case .documentRef(let ref, _): dependencies(of: ref.original, into: &deps)
        case .variable(let name, _):
            if name == "data" { deps += nodes(for: [] as [String?]) }
        case .ref(let head, let path, _):
            if case .variable("data", _) = head {
                // Constant keys must match by name (numbers as their text, as data lookups do);
                // other constants reach no rule, variables match any key.
                var pattern: [String?] = []
                var reachable = true
                for p in path {
                    switch p {
                    case .value(.string(let s), _): pattern.append(s)
                    case .value(.number(let n), _): pattern.append(n.description)
                    case .value: reachable = false
                    default: pattern.append(nil)
                    }
                }
                if reachable { deps += nodes(for: pattern) }
            } else {
                dependencies(of: head, into: &deps)
            }
            path.forEach { dependencies(of: $0, into: &deps) }
        case .array(let items, _), .set(let items, _): items.forEach { dependencies(of: $0, into: &deps) }
        case .object(let pairs, _):
            for (k, v) in pairs {
                dependencies(of: k, into: &deps)
                dependencies(of: v, into: &deps)
            }
        case .arrayComprehension(let h, let body, _), .setComprehension(let h, let body, _):
            dependencies(of: h, into: &deps)
            body.forEach { dependencies(of: $0, into: &deps) }
        case .objectComprehension(let k, let v, let body, _):
            dependencies(of: k, into: &deps)
            dependencies(of: v, into: &deps)
            body.forEach { dependencies(of: $0, into: &deps) }
        case .resolvedCall(let target, let args, _):
            if case .function(let fn) = target, let n = root.node(at: fn.path) { deps.append(n) }
            args.forEach { dependencies(of: $0, into: &deps) }
        case .template(let parts, _):
            for case .term(let x, let withs) in parts {
                dependencies(of: x, into: &deps)
                withs.forEach { dependencies(of: $0.value, into: &deps) }
            }
        }
    }
}
