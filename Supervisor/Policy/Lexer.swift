/// A parse, compile or evaluation error, with OPA's code (`rego_parse_error`,
/// `rego_unsafe_var_error`, `eval_conflict_error`, ...).
public struct PolicyError: Error, Sendable, CustomStringConvertible {
    /// OPA's error code.
    public var code: String
    /// The message, without code or location.
    public var message: String
    /// Where, when known.
    public var location: SourceLocation?

    public init(_ code: String, _ message: String, at location: SourceLocation? = nil) {
        self.code = code
        self.message = message
        self.location = location
    }

    /// `file:row:col: code: message`, as a policy author reads it.
    public var description: String {
        if let l = location { return "\(l): \(code): \(message)" }
        return "\(code): \(message)"
    }
}

enum TokenKind: Equatable {
    case ident(String)
    case string(String)
    case rawString(String)
    case number(String)
    /// `$"..."` or `$`...``: literal pieces and embedded expressions (source text and its location).
    case template([TemplatePiece])
    case punct(String)
    case eof
}

enum TemplatePiece: Equatable {
    case text(String)
    case expression(String, row: Int, col: Int)
}

struct Token {
    var kind: TokenKind
    var row: Int
    var col: Int
    /// A line break separates this token from the previous one (ends an expression or rule).
    var newlineBefore: Bool
}

/// Splits Rego source into tokens.
struct Lexer {
    let file: String
    let scalars: [Unicode.Scalar]
    var pos = 0
    var row: Int
    var col: Int

    init(_ source: String, file: String, row: Int = 1, col: Int = 1) {
        self.file = file
        self.scalars = Array(source.unicodeScalars)
        self.row = row
        self.col = col
    }

    func error(_ message: String, row: Int? = nil, col: Int? = nil) -> PolicyError {
        PolicyError("rego_parse_error", message, at: SourceLocation(file: file, row: row ?? self.row, col: col ?? self.col))
    }

    var current: Unicode.Scalar? { pos < scalars.count ? scalars[pos] : nil }
    func peek(_ offset: Int = 1) -> Unicode.Scalar? { pos + offset < scalars.count ? scalars[pos + offset] : nil }

    mutating func advance() {
        if scalars[pos] == "\n" { row += 1; col = 1 } else { col += 1 }
        pos += 1
    }

    static func isIdentStart(_ c: Unicode.Scalar) -> Bool {
        c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c)
    }
    static func isIdentPart(_ c: Unicode.Scalar) -> Bool { isIdentStart(c) || ("0"..."9").contains(c) }
    static func isDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }

    mutating func tokenize() throws -> [Token] {
        var tokens: [Token] = []
        var sawNewline = false
        while true {
            // Skip whitespace and comments, noting line breaks.
            while let c = current {
                if c == "\n" { sawNewline = true; advance() }
                else if c == " " || c == "\t" || c == "\r" { advance() }
                else if c == "#" { while let d = current, d != "\n" { advance() } }
                else { break }
            }
            let startRow = row, startCol = col
            guard let c = current else {
                tokens.append(Token(kind: .eof, row: row, col: col, newlineBefore: true))
                return tokens
            }
            let kind: TokenKind
            if Lexer.isIdentStart(c) {
                var s = ""
                while let d = current, Lexer.isIdentPart(d) { s.unicodeScalars.append(d); advance() }
                kind = .ident(s)
            } else if Lexer.isDigit(c) {
                kind = .number(try lexNumber())
            } else if c == "\"" {
                advance()
                kind = .string(try lexQuoted(template: false).text)
            } else if c == "`" {
                advance()
                var s = ""
                while true {
                    guard let d = current else { throw error("non-terminated raw string", row: startRow, col: startCol) }
                    advance()
                    if d == "`" { break }
                    s.unicodeScalars.append(d)
                }
                kind = .rawString(s)
            } else if c == "$", let n = peek(), n == "\"" || n == "`" {
                advance(); advance()
                kind = .template(try lexTemplate(raw: n == "`"))
            } else {
                let two = peek().map { String(c) + String($0) } ?? ""
                if [":=", "==", "!=", "<=", ">="].contains(two) {
                    advance(); advance()
                    kind = .punct(two)
                } else if "{}[]().,;:=<>+-*/%|&!".unicodeScalars.contains(c) {
                    advance()
                    kind = .punct(String(c))
                } else {
                    throw error("illegal token '\(c)'")
                }
            }
            tokens.append(Token(kind: kind, row: startRow, col: startCol, newlineBefore: sawNewline || tokens.isEmpty))
            sawNewline = false
        }
    }

    mutating func lexNumber() throws -> String {
        var s = ""
        while let d = current, Lexer.isDigit(d) { s.unicodeScalars.append(d); advance() }
        if current == ".", let n = peek(), Lexer.isDigit(n) {
            s += "."; advance()
            while let d = current, Lexer.isDigit(d) { s.unicodeScalars.append(d); advance() }
        }
        if let e = current, e == "e" || e == "E" {
            let sign = peek()
            if let sg = sign, Lexer.isDigit(sg) || ((sg == "+" || sg == "-") && peek(2).map(Lexer.isDigit) == true) {
                s += "e"; advance()
                if current == "+" || current == "-" { s.unicodeScalars.append(scalars[pos]); advance() }
                while let d = current, Lexer.isDigit(d) { s.unicodeScalars.append(d); advance() }
            }
        }
        return s
    }

    mutating func lexEscape(into s: inout String) throws {
        guard let e = current else { throw error("non-terminated string") }
        advance()
        switch e {
        case "\"": s += "\""
        case "\\": s += "\\"
        case "/": s += "/"
        case "b": s += "\u{8}"
        case "f": s += "\u{C}"
        case "n": s += "\n"
        case "r": s += "\r"
        case "t": s += "\t"
        case "u":
            var v = try hex4()
            if (0xD800..<0xDC00).contains(v), current == "\\", peek() == "u" {
                let save = (pos, row, col)
                advance(); advance()
                let low = try hex4()
                if (0xDC00..<0xE000).contains(low) { v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00) } else { (pos, row, col) = save }
            }
            s.unicodeScalars.append(Unicode.Scalar(v) ?? "\u{FFFD}")
        default:
            throw error("invalid escape sequence")
        }
    }

    mutating func hex4() throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let c = current, let d = UInt32(String(c), radix: 16) else {
                throw error("invalid escape sequence")
            }
            v = v * 16 + d
            advance()
        }
        return v
    }

    mutating func lexQuoted(template: Bool) throws -> (text: String, pieces: [TemplatePiece]) {
        var s = ""
        var pieces: [TemplatePiece] = []
        while true {
            guard let c = current, c != "\n" else { throw error("non-terminated string") }
            if c == "\"" { advance(); break }
            if c == "\\" {
                advance()
                if template, current == "{" { s += "{"; advance(); continue }
                try lexEscape(into: &s)
                continue
            }
            if template, c == "{" {
                if !s.isEmpty { pieces.append(.text(s)); s = "" }
                pieces.append(try lexTemplateExpression())
                continue
            }
            s.unicodeScalars.append(c)
            advance()
        }
        if template, !s.isEmpty { pieces.append(.text(s)) }
        return (s, pieces)
    }

    /// Reads `{ expr }` inside a template, balancing braces and skipping strings.
    mutating func lexTemplateExpression() throws -> TemplatePiece {
        advance()  // {
        let startRow = row, startCol = col
        var depth = 0
        var text = ""
        while true {
            guard let c = current else { throw error("non-terminated string template expression") }
            if c == "}" && depth == 0 { advance(); break }
            if c == "{" { depth += 1 }
            if c == "}" { depth -= 1 }
            if c == "\"" {
                text.unicodeScalars.append(c); advance()
                while let d = current, d != "\"" {
                    text.unicodeScalars.append(d); advance()
                    if d == "\\", let e = current { text.unicodeScalars.append(e); advance() }
                }
                if current == "\"" { text += "\""; advance() }
                continue
            }
            if c == "`" {
                text.unicodeScalars.append(c); advance()
                while let d = current, d != "`" { text.unicodeScalars.append(d); advance() }
                if current == "`" { text += "`"; advance() }
                continue
            }
            text.unicodeScalars.append(c)
            advance()
        }
        return .expression(text, row: startRow, col: startCol)
    }

    mutating func lexTemplate(raw: Bool) throws -> [TemplatePiece] {
        if !raw { return try lexQuoted(template: true).pieces }
        var s = ""
        var pieces: [TemplatePiece] = []
        while true {
            guard let c = current else { throw error("non-terminated raw string") }
            if c == "`" { advance(); break }
            if c == "\\", peek() == "{" { advance(); advance(); s += "{"; continue }
            if c == "{" {
                if !s.isEmpty { pieces.append(.text(s)); s = "" }
                pieces.append(try lexTemplateExpression())
                continue
            }
            s.unicodeScalars.append(c)
            advance()
        }
        if !s.isEmpty { pieces.append(.text(s)) }
        return pieces
    }
}
