/// A rule after compilation, placed in the rule tree.
final class CompiledRule: @unchecked Sendable {
    let kind: RuleKind
    let isDefault: Bool
    /// The constant part of the full path (`data.` omitted): package then head keys.
    let path: [String]
    /// Head keys after the constant part (`p[x]` → [x]).
    let dynamicKeys: [Term]
    let args: [Term]
    let value: Term
    let body: Body
    let elses: [ElseBranch]
    let frameSize: Int
    let location: SourceLocation
    /// The value of a rule that needs no evaluation (`p := 3`, `default p := false`).
    let constantValue: Value?

    init(kind: RuleKind, isDefault: Bool, path: [String], dynamicKeys: [Term], args: [Term], value: Term,
         body: Body, elses: [ElseBranch], frameSize: Int, location: SourceLocation) {
        self.kind = kind
        self.isDefault = isDefault
        self.path = path
        self.dynamicKeys = dynamicKeys
        self.args = args
        self.value = value
        self.body = body
        self.elses = elses
        self.frameSize = frameSize
        self.location = location
        var constant: Value?
        if kind == .singleValue, dynamicKeys.isEmpty, elses.isEmpty, case .value(let v, _) = value {
            if isDefault {
                constant = v
            } else if body.count == 1, body[0].withs.isEmpty, !body[0].negated,
                      case .term(.value(.bool(true), _)) = body[0].kind {
                constant = v
            }
        }
        self.constantValue = constant
    }

    var displayPath: String { "data." + path.joined(separator: ".") }
}

/// One node of the tree of rules under `data`: a package segment or a rule path.
final class RuleNode: @unchecked Sendable {
    let path: [String]
    var children: [String: RuleNode] = [:]
    /// Rules whose constant path ends here (not defaults).
    var rules: [CompiledRule] = []
    var defaultRule: CompiledRule?
    /// A module declares this package: it is a document (`{}` at least) even without rules.
    var isPackage = false
    /// Position in the compiled tree (`numberNodes`): the evaluator keeps documents in arrays by it.
    var index = 0
    /// How the evaluator computes this node's document, decided once compiled (`numberNodes`).
    var shape = DocumentShape.general

    enum DocumentShape {
        /// Complete rules (`p := v`, `p if ...`), nothing below.
        case complete
        /// Multi-value rules without key variables (`p contains x`), nothing below.
        case partialSet
        /// Anything else: built with `DocumentBuilder`.
        case general
    }

    func computeShape() {
        shape = .general
        guard children.isEmpty, let first = rules.first ?? defaultRule,
              rules.allSatisfy({ $0.dynamicKeys.isEmpty && $0.kind == first.kind }) else { return }
        if first.kind == .singleValue { shape = .complete }
        if first.kind == .multiValue { shape = .partialSet }
    }

    init(path: [String]) { self.path = path }

    func child(_ key: String) -> RuleNode {
        if let c = children[key] { return c }
        let c = RuleNode(path: path + [key])
        children[key] = c
        return c
    }

    func node(at path: [String]) -> RuleNode? {
        var n: RuleNode? = self
        for k in path { n = n?.children[k] }
        return n
    }

    var hasRules: Bool { !rules.isEmpty || defaultRule != nil }
    var isFunction: Bool { (rules.first ?? defaultRule)?.kind == .function }
    var functionArity: Int? { isFunction ? (rules.first ?? defaultRule)?.args.count : nil }
    /// True when something other than functions lives at or below this node.
    private var documentsFlag: Bool?
    var hasDocuments: Bool {
        if let d = documentsFlag { return d }
        let d = isPackage || (hasRules && !isFunction) || !children.isEmpty
        documentsFlag = d
        return d
    }
}

/// A variable scope: a rule body, a comprehension body or an `every` body. All scopes of
/// one rule share a frame, each owning the slots it declares.
final class Scope {
    let parent: Scope?
    let allocator: SlotAllocator
    var names: [String: Int] = [:]
    var owned: Set<Int> = []

    init(parent: Scope?, allocator: SlotAllocator) {
        self.parent = parent
        self.allocator = allocator
    }

    func lookup(_ name: String) -> Int? { names[name] ?? parent?.lookup(name) }

    @discardableResult
    func declare(_ name: String) -> Int {
        if let s = names[name] { return s }
        let s = allocator.next()
        allocator.names.append(name)
        names[name] = s
        owned.insert(s)
        return s
    }
}

final class SlotAllocator {
    var count = 0
    var names: [String] = []
    func next() -> Int { defer { count += 1 }; return count }
}

/// Turns parsed modules into a rule tree: resolves names, checks safety and orders bodies.
struct Compiler {
    let builtins: BuiltinRegistry
    /// Rule names by package ("a.b" → names).
    var ruleNames: [String: Set<String>] = [:]
    let root: RuleNode

    init(builtins: BuiltinRegistry) {
        self.builtins = builtins
        self.root = RuleNode(path: [])
    }

    /// A compiler for queries against an already compiled tree.
    init(builtins: BuiltinRegistry, root: RuleNode) {
        self.builtins = builtins
        self.root = root
        var arities: [String: Int] = [:]
        func visit(_ n: RuleNode) {
            if let a = n.functionArity { arities[n.path.joined(separator: ".")] = a }
            n.children.values.forEach(visit)
        }
        visit(root)
        self.functionArities = arities
    }

    mutating func compile(_ modules: [Module]) throws -> RuleNode {
        for m in modules {
            root.create(m.package).isPackage = true
            let key = m.package.joined(separator: ".")
            for r in m.rules {
                if case .value(.string(let n), _) = r.head[0] { ruleNames[key, default: []].insert(n) }
            }
        }
        // Functions must be known before bodies that call them are compiled.
        for m in modules {
            for r in m.rules where r.kind == .function {
                let path = m.package + r.head.compactMap { if case .value(.string(let s), _) = $0 { return s }; return nil }
                _ = root.node(at: path) ?? root.create(path)
                functionArities[path.joined(separator: ".")] = r.args.count
            }
        }
        for m in modules {
            let ctx = ModuleContext(module: m, ruleNames: ruleNames[m.package.joined(separator: ".")] ?? [])
            for r in m.rules {
                let compiled = try compileRule(r, ctx)
                let node = root.create(compiled.path)
                if compiled.isDefault {
                    if node.defaultRule != nil {
                        throw PolicyError("rego_type_error", "multiple default rules \(compiled.displayPath) found", at: r.location)
                    }
                    node.defaultRule = compiled
                } else {
                    node.rules.append(compiled)
                }
            }
        }
        try checkConflicts(root)
        var recursion = RecursionCheck(root: root)
        try recursion.run()
        return root
    }

    var functionArities: [String: Int] = [:]

    func checkConflicts(_ node: RuleNode) throws {
        let all = node.rules + (node.defaultRule.map { [$0] } ?? [])
        if let first = all.first {
            for r in all.dropFirst() {
                let kindsDiffer = (r.kind == .function) != (first.kind == .function)
                    || (r.kind == .multiValue) != (first.kind == .multiValue)
                    || (r.dynamicKeys.isEmpty != first.dynamicKeys.isEmpty && r.kind != .function)
                if kindsDiffer {
                    throw PolicyError("rego_type_error", "conflicting rules \(r.displayPath) found", at: r.location)
                }
                if r.kind == .function && r.args.count != first.args.count {
                    throw PolicyError("rego_type_error", "conflicting rules \(r.displayPath) found", at: r.location)
                }
            }
        }
        for c in node.children.values { try checkConflicts(c) }
    }

    struct ModuleContext {
        let module: Module
        let ruleNames: Set<String>
        var imports: [String: Term] {
            var out: [String: Term] = [:]
            for i in module.imports {
                guard let n = i.name else { continue }
                if case .ref(.variable(let root, _), _, _) = i.path, root == "future" || root == "rego" { continue }
                out[n] = i.path
            }
            return out
        }
    }

    // MARK: Rules

    func compileRule(_ parsed: Rule, _ ctx: ModuleContext) throws -> CompiledRule {
        var rule = parsed
        for (i, a) in rule.args.enumerated() {
            switch a {
            case .template, .call:
                let name = "_$arg\(i)"
                rule.args[i] = .variable(name, a.location)
                rule.body.append(Expr(kind: .unify(.variable(name, a.location), a), location: a.location))
            default: break
            }
        }
        let allocator = SlotAllocator()
        let top = Scope(parent: nil, allocator: allocator)
        let env = Environment(ctx: ctx, imports: ctx.imports, compiler: self)
        // Constant head prefix.
        var path = ctx.module.package
        var dynamic: [Term] = []
        for (i, t) in rule.head.enumerated() {
            if dynamic.isEmpty, case .value(.string(let s), _) = t, (i < rule.head.count - 1 || rule.kind != .singleValue || true) {
                path.append(s)
            } else {
                dynamic.append(t)
            }
        }
        // A multi-value rule's set lives at the full constant path; keys after a variable
        // are not supported there.
        // Operand variables are bound before the body runs.
        var bound = Set<Int>()
        for a in rule.args {
            for n in Compiler.variableNames(in: a) { bound.insert(top.declare(n)) }
        }
        // Head variables live in the rule's top scope.
        var headNames: [String] = []
        for t in dynamic { headNames += Compiler.variableNames(in: t) }
        headNames += Compiler.variableNames(in: rule.value)
        for e in rule.elses { headNames += Compiler.variableNames(in: e.value) }

        let args = try rule.args.map { try env.compileTerm($0, top) }
        let body = try env.compileBody(rule.body, top, bound: bound, extraNames: headNames.filter { env.resolveFixed($0, top) == nil })
        let boundAfterBody = bound.union(Compiler.slotsBound(by: body, in: top))
        let keys = try dynamic.map { try env.compileTerm($0, top) }
        let value = try env.compileTerm(rule.value, top)
        try Compiler.requireSafe(keys + [value], bound: boundAfterBody, scope: top, at: rule.location)
        var elses: [ElseBranch] = []
        for e in rule.elses {
            let eb = try env.compileBody(e.body, top, bound: bound, extraNames: [])
            let ev = try env.compileTerm(e.value, top)
            try Compiler.requireSafe([ev], bound: bound.union(Compiler.slotsBound(by: eb, in: top)), scope: top, at: e.location)
            elses.append(ElseBranch(value: ev, body: eb, location: e.location))
        }
        return CompiledRule(kind: rule.kind, isDefault: rule.isDefault, path: path, dynamicKeys: keys, args: args,
                            value: value, body: body, elses: elses, frameSize: allocator.count, location: rule.location)
    }

    /// Compiles a query against the tree; returns the body, frame size and the user-visible variables.
    func compileQuery(_ body: Body) throws -> (body: Body, frameSize: Int, variables: [(String, Int)]) {
        let module = Module(file: "query", package: [], imports: [], rules: [], location: SourceLocation(file: "query", row: 1, col: 1))
        let env = Environment(ctx: ModuleContext(module: module, ruleNames: []), imports: [:], compiler: self)
        let allocator = SlotAllocator()
        let top = Scope(parent: nil, allocator: allocator)
        let compiled = try env.compileBody(body, top, bound: [], extraNames: [])
        let vars = top.names.filter { !$0.key.hasPrefix("_") }.sorted { $0.value < $1.value }.map { ($0.key, $0.value) }
        return (compiled, allocator.count, vars)
    }

    static func requireSafe(_ terms: [Term], bound: Set<Int>, scope: Scope, at loc: SourceLocation) throws {
        for t in terms {
            var a = VarAnalysis()
            a.collect(t, scope: scope, pattern: false, allSlots: true)
            if let unsafe = a.inputs.subtracting(bound).min() {
                let name = scope.allocator.names[unsafe]
                throw PolicyError("rego_unsafe_var_error", "var \(name.hasPrefix("_$") ? "_" : name) is unsafe", at: t.location)
            }
        }
    }

    static func slotsBound(by body: Body, in scope: Scope) -> Set<Int> {
        var out = Set<Int>()
        for e in body { out.formUnion(VarAnalysis.of(e, scope: scope).outputs) }
        return out
    }

    /// Variable names in a parsed term, outside nested comprehensions; call names excluded.
    static func variableNames(in term: Term) -> [String] {
        var out: [String] = []
        func walk(_ t: Term) {
            switch t {
            case .variable(let n, _): out.append(n)
            case .ref(let h, let p, _): walk(h); p.forEach(walk)
            case .array(let items, _), .set(let items, _): items.forEach(walk)
            case .object(let pairs, _): pairs.forEach { walk($0.0); walk($0.1) }
            case .call(_, let args, _), .resolvedCall(_, let args, _): args.forEach(walk)
            case .template(let parts, _):
                for case .term(let x, let withs) in parts {
                    walk(x)
                    withs.forEach { walk($0.value) }
                }
            default: break
            }
        }
        walk(term)
        return out
    }
}

extension RuleNode {
    func create(_ path: [String]) -> RuleNode {
        var n = self
        for k in path { n = n.child(k) }
        return n
    }
}
