/// Resolves the names of one module's rule (or a query) and compiles bodies:
/// variables become frame slots, rule and import names become `data`/`input` refs,
/// calls are bound to builtins or functions, and each body is ordered for safety.
struct Environment {
    let ctx: Compiler.ModuleContext
    let imports: [String: Term]
    let compiler: Compiler

    var package: [String] { ctx.module.package }

    /// What a name means without declaring it: a visible local, an import, a rule of the package, or a root.
    func resolveFixed(_ name: String, _ scope: Scope) -> Term? {
        if let slot = scope.lookup(name) { return .local(slot, name, dummyLocation) }
        if imports[name] != nil { return .variable(name, dummyLocation) }
        if ctx.ruleNames.contains(name) { return .variable(name, dummyLocation) }
        if name == "data" || name == "input" { return .variable(name, dummyLocation) }
        return nil
    }

    var dummyLocation: SourceLocation { SourceLocation(file: ctx.module.file, row: 0, col: 0) }

    // MARK: Bodies

    func compileBody(_ body: Body, _ scope: Scope, bound: Set<Int>, extraNames: [String]) throws -> Body {
        // Declarations shadow outer names.
        var assigned = Set<String>()
        for e in body {
            switch e.kind {
            case .some(let vars):
                for case .variable(let n, _) in vars { scope.declare(n) }
            case .assign(let lhs, _):
                // Declared where assigned: closures before the assignment do not see it.
                for n in Compiler.variableNames(in: lhs) { assigned.insert(n) }
            case .someIn(let k, let v, _):
                for t in [k, v].compactMap({ $0 }) { for n in Compiler.variableNames(in: t) { scope.declare(n) } }
            default: break
            }
        }
        // Every other unknown name is a local of this body.
        var names = extraNames
        for e in body { names += exprVariableNames(e) }
        for n in names where n.hasPrefix("_$") || (resolveFixed(n, scope) == nil && !assigned.contains(n)) { scope.declare(n) }

        let compiled = try body.map { try compileExpr($0, scope) }
        return try Environment.orderForSafety(compiled, scope: scope, bound: bound)
    }

    func exprVariableNames(_ e: Expr) -> [String] {
        var out: [String] = []
        switch e.kind {
        case .term(let t): out = Compiler.variableNames(in: t)
        case .unify(let a, let b), .assign(let a, let b): out = Compiler.variableNames(in: a) + Compiler.variableNames(in: b)
        case .some: break
        case .someIn(_, _, let c): out = Compiler.variableNames(in: c)
        case .every(_, _, let d, _): out = Compiler.variableNames(in: d)
        }
        for w in e.withs where !namesFunction(w.value) { out += Compiler.variableNames(in: w.value) }
        return out
    }

    /// Orders expressions so each runs once its inputs are bound (keeping the written order
    /// where it already does), or reports the first unsafe variable.
    static func orderForSafety(_ body: Body, scope: Scope, bound initial: Set<Int>) throws -> Body {
        var bound = initial
        var remaining = body.map { ($0, VarAnalysis.of($0, scope: scope)) }
        var ordered: Body = []
        while !remaining.isEmpty {
            guard let i = remaining.firstIndex(where: { $0.1.inputs.isSubset(of: bound) }) else {
                let (e, a) = remaining[0]
                let slot = a.inputs.subtracting(bound).min() ?? 0
                let name = scope.allocator.names[slot]
                throw PolicyError("rego_unsafe_var_error", "var \(name.hasPrefix("_$") ? "_" : name) is unsafe", at: e.location)
            }
            let (e, a) = remaining.remove(at: i)
            ordered.append(e)
            bound.formUnion(a.outputs)
        }
        return ordered
    }

    func compileExpr(_ e: Expr, _ scope: Scope) throws -> Expr {
        var out = e
        switch e.kind {
        case .term(let t): out.kind = .term(try compileTerm(t, scope))
        case .unify(let a, let b): out.kind = .unify(try compileTerm(a, scope), try compileTerm(b, scope))
        case .assign(let a, let b):
            let rhs = try compileTerm(b, scope)
            for n in Compiler.variableNames(in: a) { scope.declare(n) }
            out.kind = .assign(try compileTerm(a, scope), rhs)
        case .some(let vars): out.kind = .some(try vars.map { try compileTerm($0, scope) })
        case .someIn(let k, let v, let c):
            out.kind = .someIn(key: try k.map { try compileTerm($0, scope) }, value: try compileTerm(v, scope),
                               collection: try compileTerm(c, scope))
        case .every(let k, let v, let d, let body):
            let domain = try compileTerm(d, scope)
            let child = Scope(parent: scope, allocator: scope.allocator)
            var bound = Set<Int>()
            for t in [k, v].compactMap({ $0 }) { for n in Compiler.variableNames(in: t) { bound.insert(child.declare(n)) } }
            let key = try k.map { try compileTerm($0, child) }
            let value = try compileTerm(v, child)
            let compiledBody = try compileBody(body, child, bound: bound, extraNames: [])
            out.kind = .every(key: key, value: value, domain: domain, body: compiledBody)
        }
        out.withs = try e.withs.map { try compileWith($0, scope) }
        return out
    }

    func compileWith(_ w: WithModifier, _ scope: Scope) throws -> WithModifier {
        var out = w
        guard let name = w.target.dottedName else {
            throw PolicyError("rego_type_error", "with keyword target must reference existing input, data, or a function", at: w.location)
        }
        var parts = name.split(separator: ".").map(String.init)
        if let imported = imports[parts[0]], let expanded = imported.dottedName {
            parts = expanded.split(separator: ".").map(String.init) + parts.dropFirst()
        } else if ctx.ruleNames.contains(parts[0]) {
            parts = ["data"] + package + parts
        }
        if parts[0] == "input" {
            out.resolved = .input(parts.dropFirst().map { Value.string($0) })
        } else if parts[0] == "data" {
            let path = Array(parts.dropFirst())
            if compiler.functionArities[path.joined(separator: ".")] != nil {
                out.resolved = .function("data." + path.joined(separator: "."))
            } else {
                out.resolved = .data(path)
            }
        } else if compiler.builtins[name] != nil {
            out.resolved = .function(name)
        } else {
            throw PolicyError("rego_compile_error", "with keyword target must reference existing input, data, or a function", at: w.location)
        }
        if case .function = out.resolved, let target = try? resolveCallTarget(w.value, scope) {
            out.replacement = target
            out.value = .value(.null, w.location)
        } else {
            out.value = try compileTerm(w.value, scope)
        }
        return out
    }

    /// True when a `with` value names a builtin or a function (`with f as count`).
    func namesFunction(_ t: Term) -> Bool {
        guard let name = t.dottedName else { return false }
        if compiler.builtins[name] != nil { return true }
        var parts = name.split(separator: ".").map(String.init)
        if let imported = imports[parts[0]], let expanded = imported.dottedName {
            parts = expanded.split(separator: ".").map(String.init) + parts.dropFirst()
        } else if ctx.ruleNames.contains(parts[0]) {
            parts = ["data"] + package + parts
        }
        return parts[0] == "data" && compiler.functionArities[parts.dropFirst().joined(separator: ".")] != nil
    }

    // MARK: Terms

    func compileTerm(_ t: Term, _ scope: Scope) throws -> Term {
        switch t {
        case .value, .local, .resolvedCall, .documentRef:
            return t
        case .variable(let name, let loc):
            if let slot = scope.lookup(name) { return .local(slot, name, loc) }
            if let imported = imports[name] { return try compileTerm(Environment.relocate(imported, loc), scope) }
            if ctx.ruleNames.contains(name) {
                return .ref(.variable("data", loc), (package + [name]).map { .value(.string($0), loc) }, loc)
            }
            if name == "data" || name == "input" { return t }
            return .local(scope.declare(name), name, loc)
        case .ref(let head, let path, let loc):
            let h = try compileTerm(head, scope)
            let p = try path.map { try compileTerm($0, scope) }
            if case .ref(let h2, let p2, _) = h { return .ref(h2, p2 + p, loc) }
            return .ref(h, p, loc)
        case .array(let items, let loc):
            let c = try items.map { try compileTerm($0, scope) }
            if let values = Environment.constants(c) { return .value(.array(values), loc) }
            return .array(c, loc)
        case .set(let items, let loc):
            let c = try items.map { try compileTerm($0, scope) }
            if let values = Environment.constants(c) { return .value(.set(RegoSet(values)), loc) }
            return .set(c, loc)
        case .object(let pairs, let loc):
            let c = try pairs.map { (try compileTerm($0.0, scope), try compileTerm($0.1, scope)) }
            if let ks = Environment.constants(c.map(\.0)), let vs = Environment.constants(c.map(\.1)), Set(ks).count == ks.count {
                return .value(.object(RegoObject(zip(ks, vs).map { ($0, $1) })), loc)
            }
            return .object(c, loc)
        case .arrayComprehension(let head, let body, let loc):
            let child = Scope(parent: scope, allocator: scope.allocator)
            let b = try compileBody(body, child, bound: [], extraNames: Compiler.variableNames(in: head))
            return .arrayComprehension(try compileTerm(head, child), b, loc)
        case .setComprehension(let head, let body, let loc):
            let child = Scope(parent: scope, allocator: scope.allocator)
            let b = try compileBody(body, child, bound: [], extraNames: Compiler.variableNames(in: head))
            return .setComprehension(try compileTerm(head, child), b, loc)
        case .objectComprehension(let k, let v, let body, let loc):
            let child = Scope(parent: scope, allocator: scope.allocator)
            let b = try compileBody(body, child, bound: [], extraNames: Compiler.variableNames(in: k) + Compiler.variableNames(in: v))
            return .objectComprehension(try compileTerm(k, child), try compileTerm(v, child), b, loc)
        case .call(let fn, let args, let loc):
            if isPrint(fn, scope) { return try compilePrint(args, scope, at: loc) }
            let target = try resolveCallTarget(fn, scope)
            let compiledArgs = try args.map { try compileTerm($0, scope) }
            let arity: Int
            switch target {
            case .builtin(let b): arity = b.arity
            case .function(let fn): arity = fn.arity
            }
            if compiledArgs.count != arity && compiledArgs.count != arity + 1 {
                throw PolicyError("rego_type_error", "\(fn.dottedName ?? "function"): arity mismatch", at: loc)
            }
            return .resolvedCall(target, compiledArgs, loc)
        case .template(let parts, let loc):
            return .template(try parts.map {
                switch $0 {
                case .text: return $0
                case .term(let x, let withs):
                    return .term(try compileTerm(x, scope), try withs.map { try compileWith($0, scope) })
                }
            }, loc)
        }
    }

    static func constants(_ terms: [Term]) -> [Value]? {
        guard terms.allSatisfy({ if case .value = $0 { return true }; return false }) else { return nil }
        var out: [Value] = []
        out.reserveCapacity(terms.count)
        for t in terms {
            guard case .value(let v, _) = t else { return nil }
            out.append(v)
        }
        return out
    }

    /// An import's term, re-located at the place it is used.
    static func relocate(_ t: Term, _ loc: SourceLocation) -> Term {
        switch t {
        case .variable(let n, _): return .variable(n, loc)
        case .ref(let h, let p, _): return .ref(relocate(h, loc), p, loc)
        default: return t
        }
    }

    func resolveCallTarget(_ fn: Term, _ scope: Scope) throws -> CallTarget {
        guard let name = fn.dottedName else {
            throw PolicyError("rego_type_error", "invalid function reference", at: fn.location)
        }
        var parts = name.split(separator: ".").map(String.init)
        if scope.lookup(parts[0]) != nil {
            throw PolicyError("rego_type_error", "undefined function \(name)", at: fn.location)
        }
        if let imported = imports[parts[0]], let expanded = imported.dottedName {
            parts = expanded.split(separator: ".").map(String.init) + parts.dropFirst()
        } else if ctx.ruleNames.contains(parts[0]) {
            parts = ["data"] + package + parts
        }
        if parts[0] == "data" {
            let path = Array(parts.dropFirst())
            if let a = compiler.functionArities[path.joined(separator: ".")] {
                return .function(FunctionRef(path: path, arity: a, node: compiler.root.node(at: path)))
            }
        }
        if let b = compiler.builtins[parts.joined(separator: ".")] { return .builtin(b) }
        if let b = compiler.builtins[name] { return .builtin(b) }
        throw PolicyError("rego_type_error", "undefined function \(name)", at: fn.location)
    }
}
