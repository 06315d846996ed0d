import Foundation

/// JSON text to and from `Value`, keeping numbers exact (big integers are not rounded
/// through `Double`, which `JSONSerialization` would do).
///
/// `try Value(json: "{\"a\": [1, 2.5]}")`, `value.jsonText()` (compact, keys sorted as OPA
/// prints them, sets as sorted arrays), `value.jsonText(pretty: true)`.
extension Value {
    /// Parses JSON text. Throws `JSONParseError` with the byte offset of the problem.
    public init(json text: String) throws {
        var parser = JSONValueParser(Array(text.utf8))
        self = try parser.parseDocument()
    }

    /// Parses JSON bytes.
    public init(jsonData data: Data) throws {
        var parser = JSONValueParser(Array(data))
        self = try parser.parseDocument()
    }

    /// JSON text: objects with keys in OPA's order, sets as sorted arrays. Non-string
    /// object keys are written as their JSON text, as OPA does.
    public func jsonText(pretty: Bool = false) -> String {
        var out = ""
        writeJSON(into: &out, pretty: pretty, indent: 0)
        return out
    }

    func writeJSON(into out: inout String, pretty: Bool, indent: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n.description
        case .string(let s): Value.writeJSONString(s, into: &out)
        case .array(let a): Value.writeJSONArray(a, into: &out, pretty: pretty, indent: indent)
        case .set(let s): Value.writeJSONArray(s.elements, into: &out, pretty: pretty, indent: indent)
        case .object(let o):
            if o.isEmpty { out += "{}"; return }
            // JSON keys are strings: sort by the text actually written.
            let entries = o.map { (key: $0.key.stringValue ?? $0.key.jsonText(), value: $0.value) }
                .sorted { Value.compareStrings($0.key, $1.key) < 0 }
            out += "{"
            for (i, e) in entries.enumerated() {
                if i > 0 { out += "," }
                if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
                Value.writeJSONString(e.key, into: &out)
                out += pretty ? ": " : ":"
                e.value.writeJSON(into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { out += "\n" + String(repeating: "  ", count: indent) }
            out += "}"
        }
    }

    static func writeJSONArray(_ a: [Value], into out: inout String, pretty: Bool, indent: Int) {
        if a.isEmpty { out += "[]"; return }
        out += "["
        for (i, v) in a.enumerated() {
            if i > 0 { out += "," }
            if pretty { out += "\n" + String(repeating: "  ", count: indent + 1) }
            v.writeJSON(into: &out, pretty: pretty, indent: indent + 1)
        }
        if pretty { out += "\n" + String(repeating: "  ", count: indent) }
        out += "]"
    }

    /// Writes a JSON string literal, escaping as Go's encoder does (including <, > and &).
    static func writeJSONString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

/// A JSON syntax error at a byte offset.
public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    /// Byte offset in the input.
    public let offset: Int
    /// What was wrong.
    public let reason: String
    public var description: String { "invalid JSON at offset \(offset): \(reason)" }
}

/// A small recursive-descent JSON parser producing `Value`s.
struct JSONValueParser {
    let bytes: [UInt8]
    var pos = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws -> Value {
        skipSpace()
        let v = try parseValue(depth: 0)
        skipSpace()
        guard pos == bytes.count else { throw fail("unexpected trailing characters") }
        return v
    }

    func fail(_ reason: String) -> JSONParseError { JSONParseError(offset: pos, reason: reason) }

    mutating func skipSpace() {
        while pos < bytes.count, bytes[pos] == 0x20 || bytes[pos] == 0x0A || bytes[pos] == 0x0D || bytes[pos] == 0x09 { pos += 1 }
    }

    mutating func parseValue(depth: Int) throws -> Value {
        guard depth < 10_000 else { throw fail("nesting too deep") }
        guard pos < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"):
            pos += 1
            var pairs: [(Value, Value)] = []
            skipSpace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(RegoObject()) }
            while true {
                skipSpace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected string key") }
                let key = try parseString()
                skipSpace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                pos += 1
                skipSpace()
                let value = try parseValue(depth: depth + 1)
                pairs.append((.string(key), value))
                skipSpace()
                guard pos < bytes.count else { throw fail("unexpected end of input") }
                if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if bytes[pos] == UInt8(ascii: "}") { pos += 1; break }
                throw fail("expected ',' or '}'")
            }
            return .object(RegoObject(pairs))
        case UInt8(ascii: "["):
            pos += 1
            var items: [Value] = []
            skipSpace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array([]) }
            while true {
                skipSpace()
                items.append(try parseValue(depth: depth + 1))
                skipSpace()
                guard pos < bytes.count else { throw fail("unexpected end of input") }
                if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if bytes[pos] == UInt8(ascii: "]") { pos += 1; break }
                throw fail("expected ',' or ']'")
            }
            return .array(items)
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        default:
            return .number(try parseNumber())
        }
    }

    mutating func expectWord(_ word: String) throws {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count, Array(bytes[pos..<pos + w.count]) == w else { throw fail("invalid literal") }
        pos += w.count
    }

    mutating func parseNumber() throws -> Number {
        let start = pos
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        var digits = 0
        while pos < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[pos]) { pos += 1; digits += 1 }
        guard digits > 0 else { throw fail("invalid number") }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            var frac = 0
            while pos < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[pos]) { pos += 1; frac += 1 }
            guard frac > 0 else { throw fail("invalid number") }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            var exp = 0
            while pos < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[pos]) { pos += 1; exp += 1 }
            guard exp > 0 else { throw fail("invalid number") }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        guard let n = Number(parsing: text) else { throw fail("invalid number") }
        return n
    }

    mutating func parseHex4() throws -> UInt32 {
        guard pos + 4 <= bytes.count else { throw fail("bad unicode escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            v <<= 4
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v |= UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v |= UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v |= UInt32(c - UInt8(ascii: "A") + 10)
            default: throw fail("bad unicode escape")
            }
            pos += 1
        }
        return v
    }

    mutating func parseString() throws -> String {
        pos += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw fail("unterminated string") }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") { pos += 1; break }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") { out.append(c); pos += 1; continue }
            pos += 1
            guard pos < bytes.count else { throw fail("unterminated string") }
            let e = bytes[pos]; pos += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                if (0xD800..<0xDC00).contains(scalar), pos + 6 <= bytes.count,
                   bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") {
                    let save = pos
                    pos += 2
                    let low = try parseHex4()
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else { pos = save }
                }
                let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw fail("bad escape")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
