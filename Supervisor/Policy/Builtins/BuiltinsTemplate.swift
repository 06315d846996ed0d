/// `strings.render_template` with the common part of Go's text/template: `{{.field.path}}`,
/// `{{$var}}`, `{{$x := pipeline}}`, `if`/`else if`/`else`, `range` (with `$i, $v :=`),
/// `with`, `end`, pipes, comments, `{{-`/`-}}` trimming, and the functions `len`, `index`,
/// `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `and`, `or`, `not`, `print`, `printf`.
/// Values print as Go prints the JSON form OPA hands to the template (`[a b]`,
/// `map[k:v]`); a missing key prints `<undefined>`.
extension BuiltinRegistry {
    static let templateBuiltins: [Builtin] = [
        Builtin("strings.render_template", arity: 2) { args, _ in
            let source = try args.string(0)
            let variables = try args.object(1)
            var parser = TemplateParser(Array(source.unicodeScalars))
            let nodes = try parser.parseList(until: [])
            var renderer = TemplateRenderer()
            var out = ""
            try renderer.render(nodes, dot: .object(variables), into: &out)
            return .string(out)
        },
    ]
}

indirect enum TemplateNode {
    case text(String)
    case output(TemplatePipeline)
    case conditional(TemplatePipeline, then: [TemplateNode], otherwise: [TemplateNode])
    case range(TemplatePipeline, keyVariable: String?, valueVariable: String?, body: [TemplateNode], otherwise: [TemplateNode])
    case with(TemplatePipeline, body: [TemplateNode], otherwise: [TemplateNode])
}

/// Commands joined by `|`, optionally declaring (`$x :=`) or assigning (`$x =`) a variable.
struct TemplatePipeline {
    var declares: [String] = []
    var commands: [[TemplateOperand]] = []
}

enum TemplateOperand {
    case dot
    case field(base: TemplateOperandBase, path: [String])
    case literal(Value)
    case function(String)
    case nested(TemplatePipeline)
}

enum TemplateOperandBase {
    case dot
    case variable(String)
}

struct TemplateParser {
    let s: [Unicode.Scalar]
    var i = 0

    init(_ s: [Unicode.Scalar]) { self.s = s }

    func fail(_ reason: String) -> BuiltinError { BuiltinError.evaluation("template: template:1: \(reason)") }

    func has(_ text: String, at j: Int) -> Bool {
        let t = Array(text.unicodeScalars)
        return j + t.count <= s.count && Array(s[j..<(j + t.count)]) == t
    }

    /// Nodes up to one of the `until` keywords (`end`, `else`); returns when one is met,
    /// leaving `terminator` set.
    var terminator: String?
    var elseCondition: TemplatePipeline?

    mutating func parseList(until keywords: Set<String>) throws -> [TemplateNode] {
        var nodes: [TemplateNode] = []
        var text = ""
        while i < s.count {
            guard has("{{", at: i) else { text.unicodeScalars.append(s[i]); i += 1; continue }
            var start = i + 2
            if has("- ", at: start) {
                start += 1
                while let last = text.unicodeScalars.last, last == " " || last == "\t" || last == "\n" || last == "\r" {
                    text.unicodeScalars.removeLast()
                }
            }
            if !text.isEmpty { nodes.append(.text(text)); text = "" }
            guard let close = findClose(from: start) else { throw fail("unclosed action") }
            var end = close
            var trimAfter = false
            if end - 2 >= start, s[end - 1] == "-", s[end - 2] == " " { end -= 1; trimAfter = true }
            let body = String(String.UnicodeScalarView(s[start..<end])).trimmingScalars(" \t\n\r")
            i = close + 2
            if trimAfter { while i < s.count, s[i] == " " || s[i] == "\t" || s[i] == "\n" || s[i] == "\r" { i += 1 } }
            if body.hasPrefix("/*") { continue }
            let words = body.split(separator: " ", maxSplits: 1).map(String.init)
            let keyword = words.first ?? ""
            let rest = words.count > 1 ? words[1] : ""
            switch keyword {
            case "end", "else":
                guard keywords.contains(keyword) else { throw fail("unexpected {{\(keyword)}}") }
                terminator = keyword
                elseCondition = nil
                if keyword == "else", rest.hasPrefix("if ") {
                    elseCondition = try TemplateParser.pipeline(String(rest.dropFirst(3)), fail: fail)
                }
                return nodes
            case "if", "with":
                let condition = try TemplateParser.pipeline(rest, fail: fail)
                let (body, otherwise) = try parseBranches()
                nodes.append(keyword == "if" ? .conditional(condition, then: body, otherwise: otherwise) : .with(condition, body: body, otherwise: otherwise))
            case "range":
                var pipeline = try TemplateParser.pipeline(rest, fail: fail)
                let variables = pipeline.declares
                pipeline.declares = []
                let (body, otherwise) = try parseBranches()
                let key = variables.count == 2 ? variables[0] : nil
                let value = variables.count == 2 ? variables[1] : variables.first
                nodes.append(.range(pipeline, keyVariable: key, valueVariable: value, body: body, otherwise: otherwise))
            default:
                nodes.append(.output(try TemplateParser.pipeline(body, fail: fail)))
            }
        }
        if !keywords.isEmpty { throw fail("unexpected EOF") }
        if !text.isEmpty { nodes.append(.text(text)) }
        return nodes
    }

    /// The body after `if`/`with`/`range` and its `else` part (an `else if` nests).
    mutating func parseBranches() throws -> ([TemplateNode], [TemplateNode]) {
        let body = try parseList(until: ["end", "else"])
        guard terminator == "else" else { return (body, []) }
        if let condition = elseCondition {
            let (nested, nestedElse) = try parseBranches()
            return (body, [.conditional(condition, then: nested, otherwise: nestedElse)])
        }
        let otherwise = try parseList(until: ["end"])
        return (body, otherwise)
    }

    func findClose(from start: Int) -> Int? {
        var j = start
        var quote: Unicode.Scalar?
        while j + 1 < s.count {
            if let q = quote {
                if s[j] == "\\" { j += 2; continue }
                if s[j] == q { quote = nil }
            } else if s[j] == "\"" || s[j] == "`" {
                quote = s[j]
            } else if s[j] == "}" && s[j + 1] == "}" {
                return j
            }
            j += 1
        }
        return nil
    }

    // MARK: Pipelines

    static func pipeline(_ text: String, fail: (String) -> BuiltinError) throws -> TemplatePipeline {
        var tokens = try tokenize(text, fail: fail)
        var result = TemplatePipeline()
        // `$a, $b :=` or `$a :=` or `$a =`
        if let assign = tokens.firstIndex(where: { $0 == ":=" || $0 == "=" }) {
            result.declares = tokens[..<assign].filter { $0 != "," }
            tokens = Array(tokens[(assign + 1)...])
        }
        var position = 0
        result.commands = try commands(tokens, &position, fail: fail)
        return result
    }

    static func commands(_ tokens: [String], _ p: inout Int, fail: (String) -> BuiltinError) throws -> [[TemplateOperand]] {
        var commands: [[TemplateOperand]] = [[]]
        while p < tokens.count {
            let t = tokens[p]
            p += 1
            switch t {
            case "|": commands.append([])
            case ")": return commands
            case "(":
                let inner = try TemplateParser.commands(tokens, &p, fail: fail)
                commands[commands.count - 1].append(.nested(TemplatePipeline(declares: [], commands: inner)))
            default:
                commands[commands.count - 1].append(try operand(t, fail: fail))
            }
        }
        guard commands.allSatisfy({ !$0.isEmpty }) else { throw fail("missing value for command") }
        return commands
    }

    static func operand(_ t: String, fail: (String) -> BuiltinError) throws -> TemplateOperand {
        if t == "." { return .dot }
        if t.hasPrefix(".") { return .field(base: .dot, path: t.dropFirst().split(separator: ".").map(String.init)) }
        if t.hasPrefix("$") {
            let parts = t.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            return .field(base: .variable(parts[0]), path: Array(parts.dropFirst()))
        }
        if t.hasPrefix("\"") { return .literal(try Value(json: t)) }
        if t.hasPrefix("`") { return .literal(.string(String(t.dropFirst().dropLast()))) }
        if t == "true" || t == "false" { return .literal(.bool(t == "true")) }
        if t == "nil" { return .literal(.null) }
        if let n = Number(parsing: t) { return .literal(.number(n)) }
        guard t.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || $0 == "_" }) else { throw fail("unexpected \(t) in command") }
        return .function(t)
    }

    static func tokenize(_ text: String, fail: (String) -> BuiltinError) throws -> [String] {
        let c = Array(text.unicodeScalars)
        var tokens: [String] = []
        var j = 0
        while j < c.count {
            let ch = c[j]
            if ch == " " || ch == "\t" || ch == "\n" { j += 1; continue }
            if ch == "|" || ch == "(" || ch == ")" || ch == "," { tokens.append(String(ch)); j += 1; continue }
            if ch == ":" && j + 1 < c.count && c[j + 1] == "=" { tokens.append(":="); j += 2; continue }
            if ch == "=" { tokens.append("="); j += 1; continue }
            if ch == "\"" || ch == "`" {
                var k = j + 1
                while k < c.count, c[k] != ch { k += ch == "\"" && c[k] == "\\" ? 2 : 1 }
                guard k < c.count else { throw fail("unterminated quoted string") }
                tokens.append(String(String.UnicodeScalarView(c[j...k])))
                j = k + 1
                continue
            }
            var k = j
            while k < c.count, !" \t\n|(),=".unicodeScalars.contains(c[k]), !(c[k] == ":" && k + 1 < c.count && c[k + 1] == "=") { k += 1 }
            tokens.append(String(String.UnicodeScalarView(c[j..<k])))
            j = k
        }
        return tokens
    }
}

extension String {
    func trimmingScalars(_ set: String) -> String {
        let chars = Set(set.unicodeScalars)
        var scalars = Substring(self).unicodeScalars
        while let f = scalars.first, chars.contains(f) { scalars.removeFirst() }
        while let l = scalars.last, chars.contains(l) { scalars.removeLast() }
        return String(scalars)
    }
}

/// A template value: a Rego value, or Go's "no value" for a missing key.
enum TemplateValue {
    case value(Value)
    case missing

    var value: Value? { if case .value(let v) = self { return v }; return nil }
}

struct TemplateRenderer {
    var scopes: [[String: TemplateValue]] = [[:]]

    func fail(_ reason: String) -> BuiltinError { BuiltinError.evaluation("template: template:1: \(reason)") }

    mutating func render(_ nodes: [TemplateNode], dot: Value, into out: inout String) throws {
        if scopes.count == 1, scopes[0]["$"] == nil { scopes[0]["$"] = .value(dot) }
        for node in nodes {
            switch node {
            case .text(let t): out += t
            case .output(let p):
                let v = try evaluate(p, dot: dot)
                if p.declares.isEmpty { out += TemplateRenderer.text(v) }
            case .conditional(let p, let body, let otherwise):
                scopes.append([:])
                let v = try evaluate(p, dot: dot)
                try render(TemplateRenderer.isTrue(v) ? body : otherwise, dot: dot, into: &out)
                scopes.removeLast()
            case .with(let p, let body, let otherwise):
                scopes.append([:])
                let v = try evaluate(p, dot: dot)
                if TemplateRenderer.isTrue(v), let inner = v.value { try render(body, dot: inner, into: &out) } else { try render(otherwise, dot: dot, into: &out) }
                scopes.removeLast()
            case .range(let p, let keyVariable, let valueVariable, let body, let otherwise):
                let v = try evaluate(p, dot: dot)
                var pairs: [(Value, Value)] = []
                switch v.value {
                case .array(let a)?: pairs = a.enumerated().map { (Value($0.offset), $0.element) }
                case .set(let s)?: pairs = s.elements.enumerated().map { (Value($0.offset), $0.element) }
                case .object(let o)?: pairs = o.map { ($0.key, $0.value) }
                case .null?, nil: pairs = []
                default: throw fail("range can't iterate over \(TemplateRenderer.text(v))")
                }
                if pairs.isEmpty { try render(otherwise, dot: dot, into: &out); continue }
                for (k, item) in pairs {
                    var scope: [String: TemplateValue] = [:]
                    if let kv = keyVariable { scope[kv] = .value(k) }
                    if let vv = valueVariable { scope[vv] = .value(item) }
                    scopes.append(scope)
                    try render(body, dot: item, into: &out)
                    scopes.removeLast()
                }
            }
        }
    }

    mutating func evaluate(_ p: TemplatePipeline, dot: Value) throws -> TemplateValue {
        var result: TemplateValue?
        for command in p.commands {
            result = try run(command, dot: dot, piped: result)
        }
        let value = result ?? .missing
        if p.declares.count == 1 { scopes[scopes.count - 1][p.declares[0]] = value }
        return value
    }

    func lookup(_ name: String) throws -> TemplateValue {
        for scope in scopes.reversed() { if let v = scope[name] { return v } }
        throw fail("undefined variable: \(name)")
    }

    mutating func operandValue(_ o: TemplateOperand, dot: Value) throws -> TemplateValue {
        switch o {
        case .dot: return .value(dot)
        case .literal(let v): return .value(v)
        case .nested(let p): return try evaluate(p, dot: dot)
        case .function(let name): return try call(name, [], dot: dot)
        case .field(let base, let path):
            var current: TemplateValue
            switch base {
            case .dot: current = .value(dot)
            case .variable(let name): current = try lookup(name)
            }
            for key in path {
                guard case .value(let v) = current else { return .missing }
                switch v {
                case .object(let o): current = o[.string(key)].map(TemplateValue.value) ?? .missing
                case .null: return .missing
                default: throw fail("can't evaluate field \(key) in type \(v.typeName)")
                }
            }
            return current
        }
    }

    mutating func run(_ command: [TemplateOperand], dot: Value, piped: TemplateValue?) throws -> TemplateValue {
        guard let head = command.first else { return .missing }
        if case .function(let name) = head {
            var args = try command.dropFirst().map { try operandValue($0, dot: dot) }
            if let piped { args.append(piped) }
            return try call(name, args, dot: dot)
        }
        guard command.count == 1, piped == nil else { throw fail("can't give argument to non-function") }
        return try operandValue(head, dot: dot)
    }

    func call(_ name: String, _ args: [TemplateValue], dot: Value) throws -> TemplateValue {
        func arg(_ i: Int) throws -> Value {
            guard i < args.count else { throw fail("wrong number of args for \(name)") }
            return args[i].value ?? .null
        }
        switch name {
        case "len":
            switch try arg(0) {
            case .string(let s): return .value(Value(s.utf8.count))
            case .array(let a): return .value(Value(a.count))
            case .object(let o): return .value(Value(o.count))
            case .set(let s): return .value(Value(s.count))
            default: throw fail("error calling len: len of invalid type")
            }
        case "index":
            var v = try arg(0)
            for k in args.dropFirst() {
                guard let key = k.value, let next = v[key: key] else { return .missing }
                v = next
            }
            return .value(v)
        case "eq":
            let a = try arg(0)
            _ = try arg(1)
            return .value(.bool(args.dropFirst().contains { ($0.value ?? .null) == a }))
        case "ne": return .value(.bool(try arg(0) != arg(1)))
        case "lt": return .value(.bool(try arg(0) < arg(1)))
        case "le": return .value(.bool(try arg(0) <= arg(1)))
        case "gt": return .value(.bool(try arg(0) > arg(1)))
        case "ge": return .value(.bool(try arg(0) >= arg(1)))
        case "not": return .value(.bool(!TemplateRenderer.isTrue(args.first ?? .missing)))
        case "and":
            for a in args where !TemplateRenderer.isTrue(a) { return a }
            return args.last ?? .missing
        case "or":
            for a in args where TemplateRenderer.isTrue(a) { return a }
            return args.last ?? .missing
        case "print":
            return .value(.string(args.map(TemplateRenderer.text).joined()))
        case "printf":
            guard case .string(let format) = try arg(0) else { throw fail("printf needs a format string") }
            return .value(.string(GoFormatter.format(format, args.dropFirst().map { GoFormatter.Argument($0.value ?? .null) })))
        default:
            throw fail("function \(GoFormatter.quote(name)) not defined")
        }
    }

    static func isTrue(_ v: TemplateValue) -> Bool {
        switch v.value {
        case nil, .null?: return false
        case .bool(let b)?: return b
        case .number(let n)?: return !n.isZero
        case .string(let s)?: return !s.isEmpty
        case .array(let a)?: return !a.isEmpty
        case .object(let o)?: return !o.isEmpty
        case .set(let s)?: return !s.isEmpty
        }
    }

    /// Go's `%v` of the JSON form of a value.
    static func text(_ v: TemplateValue) -> String {
        guard case .value(let value) = v else { return "<undefined>" }
        return goText(value)
    }

    static func goText(_ value: Value) -> String {
        switch value {
        case .null: return "<nil>"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n.description
        case .string(let s): return s
        case .array(let a): return "[" + a.map(goText).joined(separator: " ") + "]"
        case .set(let s): return "[" + s.elements.map(goText).joined(separator: " ") + "]"
        case .object(let o):
            let entries = o.map { (key: $0.key.stringValue ?? $0.key.jsonText(), value: $0.value) }
                .sorted { Value.compareStrings($0.key, $1.key) < 0 }
            return "map[" + entries.map { $0.key + ":" + goText($0.value) }.joined(separator: " ") + "]"
        }
    }
}
