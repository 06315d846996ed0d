/// `uuid.rfc4122` (a random version 4 UUID, the same for the same seed within one
/// evaluation), `uuid.parse`, and `rand.intn` (likewise fixed per evaluation).
extension BuiltinRegistry {
    static let uuidBuiltins: [Builtin] = [
        Builtin("uuid.rfc4122", arity: 1, nondeterministic: true) { args, context in
            let key = "uuid.rfc4122\u{0}" + (try args.string(0))
            if let cached = context.cache[key] { return cached }
            var bytes = (0..<16).map { _ in UInt8.random(in: 0...255) }
            bytes[6] = bytes[6] & 0x0F | 0x40
            bytes[8] = bytes[8] & 0x3F | 0x80
            let value = Value.string(UUIDText.format(bytes))
            context.cache[key] = value
            return value
        },
        Builtin("uuid.parse", arity: 1) { args, _ in
            guard let bytes = UUIDText.parse(try args.string(0)) else { return nil }
            return .object(UUIDText.describe(bytes))
        },
        Builtin("rand.intn", arity: 2, nondeterministic: true) { args, context in
            let seed = try args.string(0)
            var n = try args.integer(1)
            let key = "rand.intn\u{0}\(seed)\u{0}\(n)"
            if let cached = context.cache[key] { return cached }
            if n < 0 { n = n == Int.min ? Int.max : -n }
            let value = Value(n == 0 ? 0 : Int.random(in: 0..<n))
            context.cache[key] = value
            return value
        },
    ]
}

/// UUID text forms as Go's google/uuid reads them: plain, `{…}`, `urn:uuid:…`, or 32 hex digits.
enum UUIDText {
    static func format(_ b: [UInt8]) -> String {
        let hex = b.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }

    static func parse(_ text: String) -> [UInt8]? {
        var s = Substring(text)
        switch s.count {
        case 36: break
        case 38:
            guard s.first == "{", s.last == "}" else { return nil }
            s = s.dropFirst().dropLast()
        case 45:
            guard s.lowercased().hasPrefix("urn:uuid:") else { return nil }
            s = s.dropFirst(9)
        case 32: break
        default: return nil
        }
        if s.count == 36 {
            let chars = Array(s)
            guard chars[8] == "-", chars[13] == "-", chars[18] == "-", chars[23] == "-" else { return nil }
            s = Substring(s.filter { $0 != "-" })
        }
        guard s.count == 32 else { return nil }
        var bytes: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex {
            let j = s.index(i, offsetBy: 2)
            guard let b = UInt8(s[i..<j], radix: 16) else { return nil }
            bytes.append(b)
            i = j
        }
        return bytes
    }

    /// OPA's description: variant and version, and for versions 1 and 2 the time (Unix
    /// nanoseconds), clock sequence, node id and MAC flags; for version 2 the domain and id.
    static func describe(_ b: [UInt8]) -> RegoObject {
        let version = Int(b[6] >> 4)
        let variant: String
        switch b[8] {
        case 0xC0...0xDF: variant = "Microsoft"
        case 0x80...0xBF: variant = "RFC4122"
        case 0xE0...0xFF: variant = "Future"
        default: variant = "Reserved"
        }
        var out: [(Value, Value)] = [("variant", .string(variant)), ("version", Value(version))]
        if version == 1 || version == 2 {
            let be32 = { (i: Int) -> Int in (0..<4).reduce(0) { $0 << 8 | Int(b[i + $1]) } }
            let be16 = { (i: Int) -> Int in Int(b[i]) << 8 | Int(b[i + 1]) }
            // 100 ns intervals since 1582-10-15, as Unix nanoseconds.
            let intervals = be32(0) | be16(4) << 32 | (be16(6) & 0xFFF) << 48
            let unix = intervals - 122_192_928_000_000_000
            out.append(("time", Value(unix * 100)))
            out.append(("clocksequence", Value(be16(8) & 0x3FFF)))
            let node = b[10..<16].map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
            out.append(("nodeid", .string(node.joined(separator: "-"))))
            let local = b[10] & 0x02 != 0 ? "local" : "global"
            let cast = b[10] & 0x01 != 0 ? "multicast" : "unicast"
            out.append(("macvariables", .string(local + ":" + cast)))
            if version == 2 {
                let domains = ["Person", "Group", "Org"]
                out.append(("domain", .string(Int(b[9]) < domains.count ? domains[Int(b[9])] : "Domain\(b[9])")))
                out.append(("id", Value(be32(0))))
            }
        }
        return RegoObject(out)
    }
}
