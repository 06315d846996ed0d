/// `yaml.marshal`, `yaml.unmarshal` and `yaml.is_valid` for the YAML that policies and data
/// files use: block mappings and sequences, flow collections, plain and quoted scalars,
/// literal and folded block scalars, comments, a leading `---`. Scalars resolve as YAML 1.1
/// does in OPA (`yes`/`no`/`on`/`off` are booleans). Not supported: anchors and aliases,
/// tags, multi-line quoted scalars, several documents in one text (only the first is read).
extension BuiltinRegistry {
    static let yamlBuiltins: [Builtin] = [
        Builtin("yaml.marshal", arity: 1) { args, _ in
            var out = ""
            YAMLWriter.write(args[0], into: &out, indent: 0, context: .document)
            return .string(out)
        },
        Builtin("yaml.unmarshal", arity: 1) { args, _ in
            do { return try YAMLReader.parse(try args.string(0)) } catch let e as YAMLReader.SyntaxError {
                throw BuiltinError.evaluation("yaml: line \(e.line): \(e.reason)")
            }
        },
        Builtin("yaml.is_valid", arity: 1) { args, _ in
            guard case .string(let s) = args[0] else { return false }
            return Value((try? YAMLReader.parse(s)) != nil)
        },
    ]
}

/// Block-style YAML output in the layout of Go's yaml.v2 (which OPA uses): keys sorted,
/// sequences under a key not indented, strings quoted only when they would read back as
/// something else.
enum YAMLWriter {
    enum Context { case document, mappingValue, sequenceItem }

    static func write(_ value: Value, into out: inout String, indent: Int, context: Context) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .object(let o) where !o.isEmpty:
            let entries = o.map { (key: $0.key.stringValue ?? $0.key.jsonText(), value: $0.value) }
                .sorted { Value.compareStrings($0.key, $1.key) < 0 }
            if context == .mappingValue { out += "\n" }
            for (i, e) in entries.enumerated() {
                // The first key of a sequence item shares the `- ` line.
                if !(context == .sequenceItem && i == 0) { out += pad }
                out += scalarText(.string(e.key)) + ":"
                write(e.value, into: &out, indent: indent + 2, context: .mappingValue)
            }
        case .array, .set:
            let items = value.arrayValue ?? value.setValue?.elements ?? []
            guard !items.isEmpty else { out += (context == .mappingValue ? " " : "") + "[]\n"; return }
            // yaml.v2 writes a sequence under a key at the key's own indentation.
            let itemIndent = context == .mappingValue ? indent - 2 : indent
            let itemPad = String(repeating: " ", count: itemIndent)
            if context == .mappingValue { out += "\n" }
            for (i, item) in items.enumerated() {
                if !(context == .sequenceItem && i == 0) { out += itemPad }
                out += "- "
                write(item, into: &out, indent: itemIndent + 2, context: .sequenceItem)
            }
        default:
            let text = value.objectValue != nil ? "{}" : scalarText(value)
            out += (context == .mappingValue ? " " : "") + text + "\n"
        }
    }

    static func scalarText(_ value: Value) -> String {
        guard case .string(let s) = value else { return value.jsonText() }
        if needsQuotes(s) {
            var out = ""
            Value.writeJSONString(s, into: &out)
            return out
        }
        return s
    }

    static func needsQuotes(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return true }
        if case .string = YAMLReader.resolvePlain(s) {} else { return true }
        if "-?:,[]{}#&*!|>'\"%@` \t".unicodeScalars.contains(first) || last == " " || last == ":" { return true }
        if s.contains(": ") || s.contains(" #") || s.contains("\n") || s.contains("\t") { return true }
        return s.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }
}

/// A small YAML reader producing `Value`s.
struct YAMLReader {
    struct SyntaxError: Error {
        var line: Int
        var reason: String
    }

    let lines: [[Unicode.Scalar]]
    var line = 0
    var column = 0
    /// Nesting depth, bounded so that hostile input cannot exhaust the stack.
    var depth = 0
    static let maximumDepth = 500

    mutating func enter() throws {
        depth += 1
        guard depth <= YAMLReader.maximumDepth else { throw fail("exceeded max depth of \(YAMLReader.maximumDepth)") }
    }

    static func parse(_ text: String) throws -> Value {
        var reader = YAMLReader(lines: text.split(separator: "\n", omittingEmptySubsequences: false).map {
            var scalars = Array($0.unicodeScalars)
            if scalars.last == "\r" { scalars.removeLast() }
            return scalars
        })
        return try reader.document()
    }

    func fail(_ reason: String, at line: Int? = nil) -> SyntaxError { SyntaxError(line: (line ?? self.line) + 1, reason: reason) }

    // MARK: Positions

    func char(_ l: Int, _ c: Int) -> Unicode.Scalar? { l < lines.count && c < lines[l].count ? lines[l][c] : nil }

    func indent(of l: Int) -> Int { lines[l].prefix { $0 == " " }.count }

    /// True when the line holds nothing but spaces or a comment.
    func isBlank(_ l: Int) -> Bool {
        let rest = lines[l].drop { $0 == " " || $0 == "\t" }
        return rest.isEmpty || rest.first == "#"
    }

    /// True when only spaces or a comment follow column `c` on line `l`.
    func restIsBlank(_ l: Int, from c: Int) -> Bool {
        var i = c
        while let ch = char(l, i), ch == " " || ch == "\t" { i += 1 }
        guard let ch = char(l, i) else { return true }
        return ch == "#" && (i == 0 || char(l, i - 1) == " " || char(l, i - 1) == "\t")
    }

    /// Moves to the first non-blank line at or after `from`; false at the end of the text.
    mutating func nextContentLine(from: Int) -> Bool {
        var l = from
        while l < lines.count {
            let trimmed = lines[l].drop { $0 == " " }
            if isBlank(l) { l += 1; continue }
            if Array(trimmed.prefix(3)) == ["-", "-", "-"] && (trimmed.count == 3 || trimmed.dropFirst(3).first == " ") { l += 1; continue }
            if Array(trimmed.prefix(3)) == [".", ".", "."] && trimmed.count == 3 { line = lines.count; return false }
            line = l; column = indent(of: l)
            return true
        }
        line = lines.count
        return false
    }

    mutating func document() throws -> Value {
        guard nextContentLine(from: 0) else { return .null }
        let value = try blockNode(parentIndent: -1)
        if nextContentLine(from: line + 1) { throw fail("did not find expected <document start>") }
        return value
    }

    // MARK: Block structure

    func startsSequenceItem(_ l: Int, _ c: Int) -> Bool {
        char(l, c) == "-" && (char(l, c + 1) == nil || char(l, c + 1) == " ")
    }

    /// The column just past the `:` of a mapping key starting at `c`, if the text is one.
    func mappingColon(_ l: Int, _ c: Int) -> Int? {
        var i = c
        if let q = char(l, c), q == "\"" || q == "'" {
            i += 1
            while let ch = char(l, i), ch != q { i += ch == "\\" && q == "\"" ? 2 : 1 }
            i += 1
            while char(l, i) == " " { i += 1 }
            return char(l, i) == ":" && (char(l, i + 1) == nil || char(l, i + 1) == " ") ? i + 1 : nil
        }
        if let f = char(l, c), "[{#&*!|>%@`".unicodeScalars.contains(f) { return nil }
        while let ch = char(l, i) {
            if ch == ":" && (char(l, i + 1) == nil || char(l, i + 1) == " ") { return i + 1 }
            if ch == "#" && i > c && char(l, i - 1) == " " { return nil }
            i += 1
        }
        return nil
    }

    /// A node starting at the current position (the first character of its content).
    mutating func blockNode(parentIndent: Int) throws -> Value {
        try enter()
        defer { depth -= 1 }
        let l = line, c = column
        if startsSequenceItem(l, c) { return try blockSequence(column: c) }
        if mappingColon(l, c) != nil { return try blockMapping(column: c) }
        return try inlineValue(parentIndent: parentIndent)
    }

    mutating func blockSequence(column col: Int) throws -> Value {
        var items: [Value] = []
        while true {
            let l = line
            var c = col + 1
            while char(l, c) == " " { c += 1 }
            if restIsBlank(l, from: c) {
                if nextContentLine(from: l + 1), indent(of: line) > col {
                    items.append(try blockNode(parentIndent: col))
                } else {
                    items.append(.null)
                    // Leave the next line for the check below.
                    if line < lines.count { line -= 1 } else { line = l }
                }
            } else {
                column = c
                items.append(try blockNode(parentIndent: col))
            }
            guard nextContentLine(from: line + 1) else { break }
            let ind = indent(of: line)
            if ind == col && startsSequenceItem(line, ind) { continue }
            if ind > col { throw fail("did not find expected '-' indicator") }
            line -= 1  // Let the caller look at this line again.
            break
        }
        return .array(items)
    }

    mutating func blockMapping(column col: Int) throws -> Value {
        var pairs: [(Value, Value)] = []
        var c = col
        while true {
            let l = line
            guard let colon = mappingColon(l, c) else { throw fail("could not find expected ':'") }
            let key = try keyText(l, from: c, to: colon - 1)
            var v = colon
            while char(l, v) == " " { v += 1 }
            let value: Value
            if restIsBlank(l, from: v) {
                if nextContentLine(from: l + 1) {
                    let ind = indent(of: line)
                    if ind > col || (ind == col && startsSequenceItem(line, ind)) {
                        value = try blockNode(parentIndent: col)
                    } else {
                        value = .null
                        line -= 1
                    }
                } else {
                    value = .null
                    line = l
                }
            } else {
                line = l; column = v
                value = try inlineValue(parentIndent: col)
            }
            pairs.append((.string(key), value))
            guard nextContentLine(from: line + 1) else { break }
            let ind = indent(of: line)
            if ind == col && !startsSequenceItem(line, ind) { c = col; continue }
            if ind > col { throw fail("mapping values are not allowed in this context") }
            line -= 1
            break
        }
        return .object(RegoObject(pairs))
    }

    func keyText(_ l: Int, from c: Int, to end: Int) throws -> String {
        let raw = String(String.UnicodeScalarView(lines[l][c..<end]))
        let trimmed = raw.trimmingTrailingSpaces()
        if let q = trimmed.unicodeScalars.first, q == "\"" || q == "'" {
            var reader = self
            reader.line = l; reader.column = c
            guard case .string(let s) = try reader.quoted() else { return trimmed }
            return s
        }
        return trimmed
    }

    /// A scalar, a flow collection or a block scalar starting at the current position.
    mutating func inlineValue(parentIndent: Int) throws -> Value {
        let l = line, c = column
        guard let first = char(l, c) else { return .null }
        switch first {
        case "[", "{":
            let value = try flow()
            if !restIsBlank(line, from: column) { throw fail("did not find expected <document start>") }
            return value
        case "\"", "'":
            let value = try quoted()
            if !restIsBlank(line, from: column) { throw fail("did not find expected key") }
            return value
        case "|", ">":
            return try blockScalar(parentIndent: parentIndent)
        default:
            var text = plainText(l, from: c)
            // Continuation lines of a plain scalar fold into one line.
            var next = l + 1
            while next < lines.count, !isBlank(next), indent(of: next) > parentIndent,
                  !startsSequenceItem(next, indent(of: next)), mappingColon(next, indent(of: next)) == nil {
                text += " " + plainText(next, from: indent(of: next))
                line = next
                next += 1
            }
            return YAMLReader.resolvePlain(text)
        }
    }

    func plainText(_ l: Int, from c: Int) -> String {
        var end = c
        while let ch = char(l, end) {
            if ch == "#" && end > c && (char(l, end - 1) == " " || char(l, end - 1) == "\t") { break }
            end += 1
        }
        return String(String.UnicodeScalarView(lines[l][c..<end])).trimmingTrailingSpaces()
    }

    /// `|` or `>` with optional chomping (`-`, `+`): the following more-indented lines.
    mutating func blockScalar(parentIndent: Int) throws -> Value {
        let l = line
        let folded = char(l, column) == ">"
        var chomp: Unicode.Scalar = " "
        if let m = char(l, column + 1), m == "-" || m == "+" { chomp = m }
        var body: [String] = []
        var blockIndent: Int?
        var next = l + 1
        while next < lines.count {
            let isEmpty = lines[next].allSatisfy { $0 == " " }
            if !isEmpty {
                let ind = indent(of: next)
                if ind <= parentIndent { break }
                if blockIndent == nil { blockIndent = ind }
                guard let bi = blockIndent, ind >= bi else { break }
                body.append(String(String.UnicodeScalarView(lines[next].dropFirst(bi))))
            } else {
                body.append("")
            }
            line = next
            next += 1
        }
        var trailing = 0
        while body.last == "" { body.removeLast(); trailing += 1 }
        var text: String
        if folded {
            text = ""
            for (i, part) in body.enumerated() {
                if i > 0 { text += (part.isEmpty || body[i - 1].isEmpty || part.hasPrefix(" ")) ? "\n" : " " }
                text += part
            }
        } else {
            text = body.joined(separator: "\n")
        }
        switch chomp {
        case "-": break
        case "+": text += String(repeating: "\n", count: trailing + (body.isEmpty ? 0 : 1))
        default: if !body.isEmpty { text += "\n" }
        }
        return .string(text)
    }

    // MARK: Flow and quoted scalars

    /// Skips spaces, line breaks and comments inside a flow collection.
    mutating func skipFlowSpace() {
        while line < lines.count {
            if let ch = char(line, column) {
                if ch == " " || ch == "\t" { column += 1; continue }
                if ch == "#" { line += 1; column = 0; continue }
                return
            }
            line += 1; column = 0
        }
    }

    mutating func flow() throws -> Value {
        try enter()
        defer { depth -= 1 }
        let startLine = line
        let open = char(line, column)
        let close: Unicode.Scalar = open == "[" ? "]" : "}"
        let missing = open == "[" ? "did not find expected ',' or ']'" : "did not find expected ',' or '}'"
        column += 1
        var items: [Value] = []
        var pairs: [(Value, Value)] = []
        while true {
            skipFlowSpace()
            guard let ch = char(line, column) else { throw fail(missing, at: startLine) }
            if ch == close { column += 1; break }
            let item = try flowScalarOrCollection(close: close)
            skipFlowSpace()
            if open == "{" || char(line, column) == ":" {
                var value = Value.null
                if char(line, column) == ":" {
                    column += 1
                    skipFlowSpace()
                    if let n = char(line, column), n != "," && n != close { value = try flowScalarOrCollection(close: close) }
                    skipFlowSpace()
                }
                if open == "{" { pairs.append((item, value)) } else { items.append(.object(RegoObject([(item, value)]))) }
            } else {
                items.append(item)
            }
            guard let sep = char(line, column) else { throw fail(missing, at: startLine) }
            if sep == "," { column += 1; continue }
            if sep == close { column += 1; break }
            throw fail(missing, at: startLine)
        }
        return open == "[" ? .array(items) : .object(RegoObject(pairs))
    }

    mutating func flowScalarOrCollection(close: Unicode.Scalar) throws -> Value {
        guard let ch = char(line, column) else { throw fail("did not find expected node content") }
        if ch == "[" || ch == "{" { return try flow() }
        if ch == "\"" || ch == "'" { return try quoted() }
        var end = column
        while let c = char(line, end), c != ",", c != "]", c != "}" {
            if c == ":" && (char(line, end + 1) == nil || char(line, end + 1) == " " || char(line, end + 1) == ",") { break }
            if c == "#" && end > column && char(line, end - 1) == " " { break }
            end += 1
        }
        let text = String(String.UnicodeScalarView(lines[line][column..<end])).trimmingTrailingSpaces()
        column = end
        return YAMLReader.resolvePlain(text)
    }

    /// A single- or double-quoted scalar on one line.
    mutating func quoted() throws -> Value {
        let q = char(line, column)
        var out = String.UnicodeScalarView()
        var i = column + 1
        while true {
            guard let ch = char(line, i) else { throw fail("found unexpected end of stream") }
            if ch == q {
                if q == "'" && char(line, i + 1) == "'" { out.append("'"); i += 2; continue }
                i += 1
                break
            }
            if q == "\"" && ch == "\\" {
                guard let e = char(line, i + 1) else { throw fail("found unexpected end of stream") }
                i += 2
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "0": out.append("\u{0}")
                case "\"", "\\", "/": out.append(e)
                case "x", "u", "U":
                    let width = e == "x" ? 2 : (e == "u" ? 4 : 8)
                    let hex = String(String.UnicodeScalarView(lines[line][min(i, lines[line].count)..<min(i + width, lines[line].count)]))
                    guard hex.count == width, let v = UInt32(hex, radix: 16), let s = Unicode.Scalar(v) else {
                        throw fail("did not find expected hexdecimal number")
                    }
                    out.append(s)
                    i += width
                default: throw fail("found unknown escape character")
                }
                continue
            }
            out.append(ch)
            i += 1
        }
        column = i
        return .string(String(out))
    }

    // MARK: Scalars

    /// How a plain scalar reads: null, boolean, number, or string.
    static func resolvePlain(_ s: String) -> Value {
        switch s {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE", "y", "Y", "yes", "Yes", "YES", "on", "On", "ON": return .bool(true)
        case "false", "False", "FALSE", "n", "N", "no", "No", "NO", "off", "Off", "OFF": return .bool(false)
        default: break
        }
        let body = s.hasPrefix("-") || s.hasPrefix("+") ? s.dropFirst() : Substring(s)
        if body.hasPrefix("0x"), let v = Int(body.dropFirst(2), radix: 16) { return Value(s.hasPrefix("-") ? -v : v) }
        let isNumeric = !body.isEmpty && body.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "." || $0 == "e" || $0 == "E" || $0 == "-" || $0 == "+") }
            && body.first.map { $0.isNumber || $0 == "." } == true
        if isNumeric, Double(s) != nil, let n = Number(parsing: s.hasPrefix("+") ? String(s.dropFirst()) : s) { return .number(n) }
        return .string(s)
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while let last = s.last, last == " " || last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
