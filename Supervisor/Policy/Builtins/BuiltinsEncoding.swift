/// Encoding builtins: `json.*`, `base64.*`, `base64url.*`, `hex.*`, `urlquery.*`.
/// Decoders follow Go's standard library (what OPA uses), including its error texts;
/// decoded bytes that are not UTF-8 turn into U+FFFD per bad byte, as Go counts them.
extension BuiltinRegistry {
    static let jsonBuiltins: [Builtin] = [
        Builtin("json.marshal", arity: 1) { args, _ in .string(args[0].jsonText()) },
        Builtin("json.marshal_with_options", arity: 2) { args, _ in
            let options = try args.object(1)
            var indent = "\t", prefix = ""
            var explicitPretty: Bool?
            for (key, value) in options {
                guard case .string(let name) = key else {
                    throw BuiltinError.operandMessage(2, "must be object with string keys but got a \(key.typeName) key")
                }
                switch name {
                case "prefix":
                    guard case .string(let s) = value else { throw BuiltinError.operand(2, expected: "string", got: value) }
                    prefix = s
                case "indent":
                    guard case .string(let s) = value else { throw BuiltinError.operand(2, expected: "string", got: value) }
                    indent = s
                case "pretty":
                    guard case .bool(let b) = value else { throw BuiltinError.operand(2, expected: "boolean", got: value) }
                    explicitPretty = b
                default:
                    throw BuiltinError.operandMessage(2, "object contained unknown key \(GoFormatter.quote(name))")
                }
            }
            // Any option implies pretty printing unless "pretty": false says otherwise.
            guard explicitPretty ?? !options.isEmpty else { return .string(args[0].jsonText()) }
            var out = prefix
            writeIndentedJSON(args[0], into: &out, prefix: prefix, indent: indent, depth: 0)
            return .string(out)
        },
        Builtin("json.unmarshal", arity: 1) { args, _ in
            do { return try Value(json: try args.string(0)) } catch let e as JSONParseError {
                throw BuiltinError.evaluation(e.description)
            }
        },
        Builtin("json.is_valid", arity: 1) { args, _ in
            guard case .string(let s) = args[0] else { return false }
            return Value((try? Value(json: s)) != nil)
        },
    ]

    /// Go's `json.MarshalIndent` layout: each element on its own line, starting with
    /// `prefix` and one `indent` per level; empty arrays and objects stay `[]` and `{}`.
    static func writeIndentedJSON(_ value: Value, into out: inout String, prefix: String, indent: String, depth: Int) {
        func newline(_ level: Int) {
            out += "\n" + prefix + String(repeating: indent, count: level)
        }
        switch value {
        case .array, .set:
            let items = value.arrayValue ?? value.setValue?.elements ?? []
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                newline(depth + 1)
                writeIndentedJSON(item, into: &out, prefix: prefix, indent: indent, depth: depth + 1)
            }
            newline(depth)
            out += "]"
        case .object(let o):
            if o.isEmpty { out += "{}"; return }
            let entries = o.map { (key: $0.key.stringValue ?? $0.key.jsonText(), value: $0.value) }
                .sorted { Value.compareStrings($0.key, $1.key) < 0 }
            out += "{"
            for (i, e) in entries.enumerated() {
                if i > 0 { out += "," }
                newline(depth + 1)
                Value.writeJSONString(e.key, into: &out)
                out += ": "
                writeIndentedJSON(e.value, into: &out, prefix: prefix, indent: indent, depth: depth + 1)
            }
            newline(depth)
            out += "}"
        default:
            out += value.jsonText()
        }
    }
}

extension BuiltinRegistry {
    static let base64Builtins: [Builtin] = [
        Builtin("base64.encode", arity: 1) { args, _ in
            .string(Base64.encode(Array(try args.string(0).utf8), url: false, padded: true))
        },
        Builtin("base64.decode", arity: 1) { args, _ in
            .string(GoText.string(fromBytes: try Base64.decode(try args.string(0), url: false, padded: true)))
        },
        Builtin("base64.is_valid", arity: 1) { args, _ in
            Value((try? Base64.decode(try args.string(0), url: false, padded: true)) != nil)
        },
        Builtin("base64url.encode", arity: 1) { args, _ in
            .string(Base64.encode(Array(try args.string(0).utf8), url: true, padded: true))
        },
        Builtin("base64url.encode_no_pad", arity: 1) { args, _ in
            .string(Base64.encode(Array(try args.string(0).utf8), url: true, padded: false))
        },
        Builtin("base64url.decode", arity: 1) { args, _ in
            let s = try args.string(0)
            // OPA accepts both padded and unpadded input.
            let padded = s.utf8.count % 4 == 0
            return .string(GoText.string(fromBytes: try Base64.decode(s, url: true, padded: padded)))
        },
        Builtin("hex.encode", arity: 1) { args, _ in
            let digits: [Character] = Array("0123456789abcdef")
            var out = ""
            for b in try args.string(0).utf8 { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xF)]) }
            return .string(out)
        },
        Builtin("hex.decode", arity: 1) { args, _ in
            let s = Array(try args.string(0).unicodeScalars)
            var out: [UInt8] = []
            func nibble(_ c: Unicode.Scalar) throws -> UInt8 {
                switch c {
                case "0"..."9": return UInt8(c.value - 48)
                case "a"..."f": return UInt8(c.value - 87)
                case "A"..."F": return UInt8(c.value - 55)
                default:
                    var hex = String(c.value, radix: 16, uppercase: true)
                    while hex.count < 4 { hex = "0" + hex }
                    throw BuiltinError.evaluation("encoding/hex: invalid byte: U+\(hex) \(GoFormatter.quoteRune(c))")
                }
            }
            var i = 0
            while i + 1 < s.count {
                out.append(try nibble(s[i]) << 4 | nibble(s[i + 1]))
                i += 2
            }
            if s.count % 2 == 1 {
                _ = try nibble(s[s.count - 1])
                throw BuiltinError.evaluation("encoding/hex: odd length hex string")
            }
            return .string(GoText.string(fromBytes: out))
        },
    ]
}

/// Go's `encoding/base64` (standard and URL alphabets, padded and raw).
enum Base64 {
    static let standard = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let urlSafe = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8], url: Bool, padded: Bool) -> String {
        let alphabet = url ? urlSafe : standard
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int((n >> UInt32(shift)) & 63)]) }
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            var n = UInt32(bytes[i]) << 16
            if rest == 2 { n |= UInt32(bytes[i + 1]) << 8 }
            out.append(alphabet[Int((n >> 18) & 63)])
            out.append(alphabet[Int((n >> 12) & 63)])
            if rest == 2 { out.append(alphabet[Int((n >> 6) & 63)]) } else if padded { out.append(UInt8(ascii: "=")) }
            if padded { out.append(UInt8(ascii: "=")) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes like Go (newlines are skipped, trailing bits need not be zero); errors read
    /// `illegal base64 data at input byte N`.
    static func decode(_ text: String, url: Bool, padded: Bool) throws -> [UInt8] {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in (url ? urlSafe : standard).enumerated() { table[Int(c)] = Int8(i) }
        let input = Array(text.utf8)
        func illegal(_ at: Int) -> BuiltinError { BuiltinError.evaluation("illegal base64 data at input byte \(at)") }
        var out: [UInt8] = []
        var quantum: [UInt32] = []
        var i = 0
        func flush() {
            var n: UInt32 = 0
            for (k, v) in quantum.enumerated() { n |= v << UInt32(18 - 6 * k) }
            let count = quantum.count - 1
            for k in 0..<count { out.append(UInt8((n >> UInt32(16 - 8 * k)) & 0xFF)) }
            quantum.removeAll(keepingCapacity: true)
        }
        func skipNewlines() { while i < input.count, input[i] == 0x0A || input[i] == 0x0D { i += 1 } }
        while true {
            skipNewlines()
            guard i < input.count else { break }
            let c = input[i]
            if c == UInt8(ascii: "=") {
                guard padded, quantum.count >= 2 else { throw illegal(i) }
                if quantum.count == 2 {
                    i += 1
                    skipNewlines()
                    guard i < input.count, input[i] == UInt8(ascii: "=") else { throw illegal(i) }
                }
                i += 1
                skipNewlines()
                guard i == input.count else { throw illegal(i) }
                flush()
                return out
            }
            guard table[Int(c)] >= 0 else { throw illegal(i) }
            quantum.append(UInt32(table[Int(c)]))
            if quantum.count == 4 { flush() }
            i += 1
        }
        if !quantum.isEmpty {
            guard !padded, quantum.count >= 2 else { throw illegal(input.count - (padded ? 0 : 1)) }
            flush()
        }
        return out
    }
}

extension BuiltinRegistry {
    static let urlQueryBuiltins: [Builtin] = [
        Builtin("urlquery.encode", arity: 1) { args, _ in .string(URLQuery.escape(try args.string(0))) },
        Builtin("urlquery.decode", arity: 1) { args, _ in .string(try URLQuery.unescape(try args.string(0))) },
        Builtin("urlquery.encode_object", arity: 1) { args, _ in
            var pairs: [(String, [String])] = []
            for (key, value) in try args.object(0) {
                guard case .string(let k) = key else { throw BuiltinError.evaluation("object keys must be strings") }
                switch value {
                case .string(let s): pairs.append((k, [s]))
                case .array(let items):
                    pairs.append((k, try items.map { guard case .string(let s) = $0 else { throw BuiltinError.evaluation("array values must be strings") }; return s }))
                case .set(let items):
                    pairs.append((k, try items.map { guard case .string(let s) = $0 else { throw BuiltinError.evaluation("set values must be strings") }; return s }))
                default: throw BuiltinError.evaluation("query values must be string, array[string], or set[string]")
                }
            }
            pairs.sort { Value.compareStrings($0.0, $1.0) < 0 }
            let encoded = pairs.flatMap { k, vs in vs.map { URLQuery.escape(k) + "=" + URLQuery.escape($0) } }
            return .string(encoded.joined(separator: "&"))
        },
        Builtin("urlquery.decode_object", arity: 1) { args, _ in
            var result: [(String, [Value])] = []
            for part in try args.string(0).split(omittingEmptySubsequences: true, whereSeparator: { $0 == "&" }) {
                let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = try URLQuery.unescape(String(kv[0]))
                let value = kv.count > 1 ? try URLQuery.unescape(String(kv[1])) : ""
                if let i = result.firstIndex(where: { $0.0 == key }) { result[i].1.append(.string(value)) } else { result.append((key, [.string(value)])) }
            }
            return .object(RegoObject(result.map { (Value.string($0.0), Value.array($0.1)) }))
        },
    ]
}

/// Go's `url.QueryEscape` / `url.QueryUnescape`.
enum URLQuery {
    static func escape(_ s: String) -> String {
        var out = ""
        let hex = Array("0123456789ABCDEF")
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case UInt8(ascii: " "): out += "+"
            default: out += "%"; out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 0xF)])
            }
        }
        return out
    }

    static func unescape(_ s: String) throws -> String {
        let bytes = Array(s.utf8)
        var out: [UInt8] = []
        var i = 0
        func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - 48
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - 87
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - 55
            default: return nil
            }
        }
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "%"):
                guard i + 2 < bytes.count, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) else {
                    let bad = GoText.string(fromBytes: Array(bytes[i..<min(i + 3, bytes.count)]))
                    throw BuiltinError.evaluation("invalid URL escape \(GoFormatter.quote(bad))")
                }
                out.append(hi << 4 | lo)
                i += 3
            case UInt8(ascii: "+"): out.append(UInt8(ascii: " ")); i += 1
            default: out.append(bytes[i]); i += 1
            }
        }
        return GoText.string(fromBytes: out)
    }
}
