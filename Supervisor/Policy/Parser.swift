/// Parses Rego v1 source into `Module`s and query bodies.
struct Parser {
    let file: String
    var tokens: [Token]
    var index = 0
    var wildcardCounter: Int

    init(_ source: String, file: String, row: Int = 1, col: Int = 1, wildcardStart: Int = 0) throws {
        var lexer = Lexer(source, file: file, row: row, col: col)
        self.file = file
        self.tokens = try lexer.tokenize()
        self.wildcardCounter = wildcardStart
    }

    /// Parses a whole module.
    static func parseModule(_ source: String, file: String) throws -> Module {
        var p = try Parser(source, file: file)
        return try p.module()
    }

    /// Parses a query (a body without braces).
    static func parseQuery(_ source: String, file: String = "query") throws -> Body {
        var p = try Parser(source, file: file)
        if case .eof = p.token.kind { throw p.error("empty query") }
        let body = try p.bodyExpressions(until: nil)
        guard case .eof = p.token.kind else { throw p.unexpected() }
        return body
    }

    // MARK: Tokens

    var token: Token { tokens[index] }
    func peekToken(_ n: Int = 1) -> Token { tokens[min(index + n, tokens.count - 1)] }
    var location: SourceLocation { SourceLocation(file: file, row: token.row, col: token.col) }

    mutating func next() { if index < tokens.count - 1 { index += 1 } }

    func isPunct(_ p: String, _ t: Token? = nil) -> Bool {
        if case .punct(let q) = (t ?? token).kind { return p == q }
        return false
    }

    func isIdent(_ name: String, _ t: Token? = nil) -> Bool {
        if case .ident(let q) = (t ?? token).kind { return q == name }
        return false
    }

    func error(_ message: String, at loc: SourceLocation? = nil) -> PolicyError {
        PolicyError("rego_parse_error", message, at: loc ?? location)
    }

    func describe(_ t: Token) -> String {
        switch t.kind {
        case .ident(let s): return "\(s) token"
        case .string, .rawString, .template: return "string token"
        case .number: return "number token"
        case .punct(let p): return "\(p) token"
        case .eof: return "eof token"
        }
    }

    func unexpected(expected: String? = nil) -> PolicyError {
        var m = "unexpected \(describe(token))"
        if let e = expected { m += ": expected \(e)" }
        return error(m)
    }

    mutating func expectPunct(_ p: String) throws {
        guard isPunct(p) else { throw unexpected(expected: p) }
        next()
    }

    mutating func identName() throws -> String {
        guard case .ident(let s) = token.kind else { throw unexpected(expected: "ident") }
        next()
        return s
    }

    mutating func freshWildcard() -> String {
        wildcardCounter += 1
        return "_$\(wildcardCounter)"
    }

    // MARK: Module

    mutating func module() throws -> Module {
        let loc = location
        guard isIdent("package") else { throw error("package expected") }
        next()
        let pkgTerm = try refTerm(allowCalls: false)
        guard let pkgName = pkgTerm.dottedName else { throw error("invalid package path", at: loc) }
        let package = pkgName.split(separator: ".").map(String.init)
        var imports: [Import] = []
        var rules: [Rule] = []
        while isIdent("import") && !isPunct(".", peekToken()) && !isPunct("[", peekToken()) {
            let l = location
            next()
            let path = try refTerm(allowCalls: false)
            var alias: String?
            if isIdent("as") { next(); alias = try identName() }
            imports.append(Import(path: path, alias: alias, location: l))
        }
        while true {
            if case .eof = token.kind { break }
            rules.append(contentsOf: try rule())
        }
        return Module(file: file, package: package, imports: imports, rules: rules, location: loc)
    }

    /// One rule statement (several rules when a head has several bodies).
    mutating func rule() throws -> [Rule] {
        let loc = location
        var isDefault = false
        if isIdent("default"), case .ident = peekToken().kind, !peekToken().newlineBefore {
            isDefault = true
            next()
        }
        if isIdent("import") && !isPunct(".", peekToken()) && !isPunct("[", peekToken()) {
            throw error("imports must come before rules")
        }
        let headRef = try refTerm(allowCalls: false)
        var head: [Term]
        switch headRef {
        case .variable(let n, let l): head = [.value(.string(n), l)]
        case .ref(.variable(let n, let l), let path, _): head = [.value(.string(n), l)] + path
        default: throw error("invalid rule head", at: loc)
        }
        var kind = RuleKind.singleValue
        var args: [Term] = []
        if isPunct("(") && !token.newlineBefore {
            kind = .function
            next()
            if !isPunct(")") {
                while true {
                    args.append(try termIn(allowOr: true))
                    if isPunct(",") { next(); continue }
                    break
                }
            }
            try expectPunct(")")
        }
        var value: Term = .value(.bool(true), loc)
        var assigned = false
        if isIdent("contains") && kind != .function && !isDefault {
            next()
            kind = .multiValue
            value = try termIn(allowOr: true)
        } else if (isPunct(":=") || isPunct("=")) && !token.newlineBefore {
            assigned = isPunct(":=")
            next()
            value = try termIn(allowOr: true)
        } else if isDefault {
            throw unexpected(expected: ":= or =")
        }
        if isDefault {
            return [Rule(kind: kind, isDefault: true, head: head, args: args, value: value, body: [],
                         elses: [], location: loc, assigned: assigned)]
        }
        var body: Body = [Expr(kind: .term(.value(.bool(true), loc)), location: loc)]
        if isIdent("if") && !token.newlineBefore {
            next()
            body = try ruleBody()
        } else if isPunct("{") && !token.newlineBefore {
            body = try braceBody()
        }
        var elses: [ElseBranch] = []
        while isIdent("else") && !isPunct(".", peekToken()) && !isPunct("[", peekToken()) {
            let eloc = location
            next()
            var v: Term = .value(.bool(true), eloc)
            if isPunct(":=") || isPunct("=") {
                next()
                v = try termIn(allowOr: true)
            }
            var ebody: Body = [Expr(kind: .term(.value(.bool(true), eloc)), location: eloc)]
            if isIdent("if") { next(); ebody = try ruleBody() } else if isPunct("{") { ebody = try braceBody() }
            elses.append(ElseBranch(value: v, body: ebody, location: eloc))
        }
        return [Rule(kind: kind, isDefault: false, head: head, args: args, value: value, body: body,
                     elses: elses, location: loc, assigned: assigned)]
    }

    /// After `if`: a braced body or a single expression.
    mutating func ruleBody() throws -> Body {
        if isPunct("{") {
            // `if {x: y | ...}` is a comprehension expression, not a body.
            let save = index, counter = wildcardCounter
            do { return try braceBody() } catch {
                index = save
                wildcardCounter = counter
                if let e = try? expression() { return [e] }
                throw error
            }
        }
        return [try expression()]
    }

    mutating func braceBody() throws -> Body {
        try expectPunct("{")
        if isPunct("}") { throw error("found empty body") }
        let body = try bodyExpressions(until: "}")
        try expectPunct("}")
        return body
    }

    /// Expressions separated by `;` or line breaks, until the closing punctuation (or eof).
    mutating func bodyExpressions(until closer: String?) throws -> Body {
        var body: Body = []
        while true {
            body.append(try expression())
            if isPunct(";") { next(); continue }
            if let c = closer, isPunct(c) { break }
            if case .eof = token.kind, closer == nil { break }
            if token.newlineBefore { continue }
            throw unexpected()
        }
        return body
    }

    // MARK: Expressions

    mutating func expression() throws -> Expr {
        let loc = location
        var negated = false
        if isIdent("not") && !isPunct(".", peekToken()) && !isPunct("[", peekToken()) {
            negated = true
            next()
        }
        var expr: Expr
        if isIdent("some") && !isPunct(".", peekToken()) && !isPunct("[", peekToken()) && !isPunct("(", peekToken()) {
            next()
            var terms = [try termRelation(allowOr: true)]
            while isPunct(",") { next(); terms.append(try termRelation(allowOr: true)) }
            if isIdent("in") {
                next()
                let collection = try termRelation(allowOr: true)
                guard terms.count <= 2 else { throw error("unexpected , token", at: loc) }
                expr = Expr(kind: .someIn(key: terms.count == 2 ? terms[0] : nil, value: terms[terms.count - 1], collection: collection), location: loc)
            } else {
                for t in terms {
                    guard case .variable = t else { throw error("expected var", at: t.location) }
                }
                expr = Expr(kind: .some(terms), location: loc)
            }
        } else if isIdent("every") && !isPunct(".", peekToken()) && !isPunct("[", peekToken()) {
            next()
            let first = try termRelation(allowOr: true)
            var key: Term?
            var value = first
            if isPunct(",") { next(); key = first; value = try termRelation(allowOr: true) }
            guard isIdent("in") else { throw unexpected(expected: "in") }
            next()
            let domain = try termRelation(allowOr: true)
            let body = try braceBody()
            expr = Expr(kind: .every(key: key, value: value, domain: domain, body: body), location: loc)
        } else {
            let lhs = try termInOrTriple()
            if isPunct("=") && !token.newlineBefore {
                next()
                expr = Expr(kind: .unify(lhs, try termIn(allowOr: true)), location: loc)
            } else if isPunct(":=") && !token.newlineBefore {
                next()
                expr = Expr(kind: .assign(lhs, try termIn(allowOr: true)), location: loc)
            } else {
                expr = Expr(kind: .term(lhs), location: loc)
            }
        }
        expr.negated = negated
        expr.withs = try withModifiers()
        return expr
    }

    mutating func withModifiers() throws -> [WithModifier] {
        var withs: [WithModifier] = []
        while isIdent("with") && !isPunct(".", peekToken()) && !isPunct("[", peekToken()) {
            let wloc = location
            next()
            let target = try refTerm(allowCalls: false)
            guard isIdent("as") else { throw unexpected(expected: "as") }
            next()
            let value = try termIn(allowOr: true)
            withs.append(WithModifier(target: target, value: value, location: wloc))
        }
        return withs
    }

    /// A term that may be `k, v in xs` (at expression level and in parentheses).
    mutating func termInOrTriple() throws -> Term {
        let first = try termRelation(allowOr: true)
        var lhs = first
        if isPunct(",") && !token.newlineBefore {
            let save = index
            next()
            let value = try termRelation(allowOr: true)
            if isIdent("in") {
                next()
                let collection = try termRelation(allowOr: true)
                lhs = .call(.variable("internal.member_3", first.location), [first, value, collection], first.location)
            } else {
                index = save
            }
        }
        return try termInContinue(lhs, allowOr: true)
    }

    mutating func termInContinue(_ start: Term, allowOr: Bool) throws -> Term {
        var lhs = start
        while isIdent("in") && !token.newlineBefore {
            let loc = lhs.location
            next()
            let rhs = try termRelation(allowOr: allowOr)
            lhs = .call(.variable("internal.member_2", loc), [lhs, rhs], loc)
        }
        return lhs
    }

    // MARK: Terms (lowest precedence first)

    mutating func termIn(allowOr: Bool) throws -> Term {
        var lhs = try termRelation(allowOr: allowOr)
        while isIdent("in") && !token.newlineBefore {
            let loc = lhs.location
            next()
            let rhs = try termRelation(allowOr: allowOr)
            lhs = .call(.variable("internal.member_2", loc), [lhs, rhs], loc)
        }
        return lhs
    }

    static let relationOps = ["==": "equal", "!=": "neq", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"]

    mutating func binaryOp(_ ops: [String: String]) -> String? {
        guard case .punct(let p) = token.kind, !token.newlineBefore, let name = ops[p] else { return nil }
        return name
    }

    mutating func termRelation(allowOr: Bool) throws -> Term {
        var lhs = try termOr(allowOr: allowOr)
        while let op = binaryOp(Parser.relationOps) {
            next()
            let rhs = try termOr(allowOr: allowOr)
            lhs = .call(.variable(op, lhs.location), [lhs, rhs], lhs.location)
        }
        return lhs
    }

    mutating func termOr(allowOr: Bool) throws -> Term {
        var lhs = try termAnd()
        while allowOr, binaryOp(["|": "or"]) != nil {
            next()
            let rhs = try termAnd()
            lhs = .call(.variable("or", lhs.location), [lhs, rhs], lhs.location)
        }
        return lhs
    }

    mutating func termAnd() throws -> Term {
        var lhs = try termArith()
        while binaryOp(["&": "and"]) != nil {
            next()
            let rhs = try termArith()
            lhs = .call(.variable("and", lhs.location), [lhs, rhs], lhs.location)
        }
        return lhs
    }

    mutating func termArith() throws -> Term {
        var lhs = try termFactor()
        while let op = binaryOp(["+": "plus", "-": "minus"]) {
            next()
            let rhs = try termFactor()
            lhs = .call(.variable(op, lhs.location), [lhs, rhs], lhs.location)
        }
        return lhs
    }

    mutating func termFactor() throws -> Term {
        var lhs = try termUnary()
        while let op = binaryOp(["*": "mul", "/": "div", "%": "rem"]) {
            next()
            let rhs = try termUnary()
            lhs = .call(.variable(op, lhs.location), [lhs, rhs], lhs.location)
        }
        return lhs
    }

    mutating func termUnary() throws -> Term {
        if isPunct("-") {
            let loc = location
            next()
            if case .number(let text) = token.kind {
                next()
                guard let n = Number(parsing: "-" + text) else { throw error("invalid number", at: loc) }
                return try postfix(.value(.number(n), loc))
            }
            let operand = try termUnary()
            return .call(.variable("minus", loc), [.value(.number(Number(0)), loc), operand], loc)
        }
        return try postfix(try primary())
    }

    /// A ref such as `data.a.b[x]` or `input`, for package names, imports, rule heads and `with` targets.
    mutating func refTerm(allowCalls: Bool) throws -> Term {
        let loc = location
        guard case .ident(let name) = token.kind else { throw unexpected(expected: "ident") }
        next()
        return try postfix(.variable(name, loc), allowCalls: allowCalls)
    }

    mutating func postfix(_ base: Term, allowCalls: Bool = true) throws -> Term {
        var head = base
        var path: [Term] = []
        func current() -> Term { path.isEmpty ? head : .ref(head, path, head.location) }
        while !token.newlineBefore {
            if isPunct(".") {
                next()
                let loc = location
                guard case .ident(let key) = token.kind else { throw unexpected(expected: "ident") }
                next()
                path.append(.value(.string(key), loc))
            } else if isPunct("[") {
                next()
                path.append(try termIn(allowOr: true))
                try expectPunct("]")
            } else if isPunct("(") && allowCalls {
                let fn = current()
                guard fn.dottedName != nil else { throw unexpected() }
                next()
                var args: [Term] = []
                if !isPunct(")") {
                    while true {
                        args.append(try termIn(allowOr: true))
                        if isPunct(",") { next(); if isPunct(")") { break }; continue }
                        break
                    }
                }
                try expectPunct(")")
                head = .call(fn, args, fn.location)
                path = []
            } else {
                break
            }
        }
        return current()
    }

    mutating func primary() throws -> Term {
        let loc = location
        switch token.kind {
        case .number(let text):
            next()
            guard let n = Number(parsing: text) else { throw error("invalid number", at: loc) }
            return .value(.number(n), loc)
        case .string(let s), .rawString(let s):
            next()
            return .value(.string(s), loc)
        case .template(let pieces):
            next()
            var parts: [TemplatePart] = []
            for piece in pieces {
                switch piece {
                case .text(let t): parts.append(.text(t))
                case .expression(let src, let row, let col):
                    var sub = try Parser(src, file: file, row: row, col: col, wildcardStart: wildcardCounter + 1000)
                    let term = try sub.termIn(allowOr: true)
                    let withs = try sub.withModifiers()
                    guard case .eof = sub.token.kind else { throw sub.unexpected() }
                    wildcardCounter = sub.wildcardCounter
                    parts.append(.term(term, withs))
                }
            }
            return .template(parts, loc)
        case .ident(let name):
            let followedByRef = (isPunct(".", peekToken()) || isPunct("[", peekToken())) && !peekToken().newlineBefore
            switch name {
            case _ where followedByRef && ["true", "false", "null"].contains(name):
                next()
                return .variable(name, loc)
            case "true": next(); return .value(.bool(true), loc)
            case "false": next(); return .value(.bool(false), loc)
            case "null": next(); return .value(.null, loc)
            case "_": next(); return .variable(freshWildcard(), loc)
            case "set" where isPunct("(", peekToken()) && isPunct(")", peekToken(2)):
                next(); next(); next()
                return .set([], loc)
            default:
                next()
                return .variable(name, loc)
            }
        case .punct("("):
            next()
            let t = try termInOrTriple()
            try expectPunct(")")
            return t
        case .punct("["):
            next()
            if isPunct("]") { next(); return .array([], loc) }
            let first = try termIn(allowOr: false)
            if isPunct("|") {
                next()
                let body = try bodyExpressions(until: "]")
                try expectPunct("]")
                return .arrayComprehension(first, body, loc)
            }
            var items = [first]
            while isPunct(",") {
                next()
                if isPunct("]") { break }
                items.append(try termIn(allowOr: true))
            }
            try expectPunct("]")
            return .array(items, loc)
        case .punct("{"):
            next()
            if isPunct("}") { next(); return .object([], loc) }
            let first = try termIn(allowOr: false)
            if isPunct(":") {
                next()
                let firstValue = try termIn(allowOr: false)
                if isPunct("|") {
                    next()
                    let body = try bodyExpressions(until: "}")
                    try expectPunct("}")
                    return .objectComprehension(first, firstValue, body, loc)
                }
                var pairs = [(first, firstValue)]
                while isPunct(",") {
                    next()
                    if isPunct("}") { break }
                    let k = try termIn(allowOr: true)
                    try expectPunct(":")
                    pairs.append((k, try termIn(allowOr: true)))
                }
                try expectPunct("}")
                return .object(pairs, loc)
            }
            if isPunct("|") {
                next()
                let body = try bodyExpressions(until: "}")
                try expectPunct("}")
                return .setComprehension(first, body, loc)
            }
            var items = [first]
            while isPunct(",") {
                next()
                if isPunct("}") { break }
                items.append(try termIn(allowOr: true))
            }
            try expectPunct("}")
            return .set(items, loc)
        default:
            throw unexpected()
        }
    }
}
