/// `net.cidr_contains`, `net.cidr_intersects`, `net.cidr_is_valid`, `net.cidr_expand`,
/// with addresses parsed as Go's `net.ParseIP` / `net.ParseCIDR` do (IPv4, IPv6,
/// IPv4-mapped IPv6; no zones, no leading zeros in IPv4).
extension BuiltinRegistry {
    /// The most addresses `net.cidr_expand` lists.
    static let maximumCIDRExpansion = 1 << 20

    static let netBuiltins: [Builtin] = [
        Builtin("net.cidr_contains", arity: 2) { args, _ in
            let network = try IPNetwork.parseCIDROperand(try args.string(0))
            let other = try args.string(1)
            if let ip = IPAddress.parse(other) { return Value(network.contains(ip)) }
            let subnet = try IPNetwork.parseCIDROperand(other)
            return Value(network.contains(subnet.first) && network.contains(subnet.last))
        },
        Builtin("net.cidr_intersects", arity: 2) { args, _ in
            let a = try IPNetwork.parseCIDROperand(try args.string(0))
            let b = try IPNetwork.parseCIDROperand(try args.string(1))
            return Value(a.contains(b.first) || b.contains(a.first))
        },
        Builtin("net.cidr_is_valid", arity: 1) { args, _ in
            guard case .string(let s) = args[0] else { return false }
            return Value(IPNetwork.parseCIDR(s) != nil)
        },
        Builtin("net.cidr_expand", arity: 1) { args, _ in
            let network = try IPNetwork.parseCIDROperand(try args.string(0))
            let hostBits = network.first.bits - network.prefix
            guard hostBits < 21 else { throw BuiltinError.evaluation("CIDR \(try args.string(0)) has too many addresses to expand") }
            var out: [Value] = []
            var v = network.first.value
            for _ in 0..<(1 << hostBits) {
                out.append(.string(IPAddress(value: v, isV4: network.first.isV4).description))
                v = v + 1
            }
            return .set(RegoSet(out))
        },
        Builtin("net.cidr_merge", arity: 1) { args, _ in
            var blocks: [IPNetwork] = []
            for item in try args.arrayOrSet(0, expected: ["array", "set"]) {
                guard case .string(let s) = item else { throw BuiltinError.operandElement(1, of: args[0], got: item, expected: "string") }
                blocks.append(try IPNetwork.parseForMerge(s))
            }
            let merged = IPNetwork.merge(blocks.filter(\.first.isV4)) + IPNetwork.merge(blocks.filter { !$0.first.isV4 })
            return .set(RegoSet(merged.map { .string($0.description) }))
        },
        Builtin("net.cidr_contains_matches", arity: 2) { args, _ in
            let networks = try cidrMatchOperand(args[0], position: 1)
            let candidates = try cidrMatchOperand(args[1], position: 2)
            var matches: [Value] = []
            for (key, text) in networks {
                let network = try IPNetwork.parseCIDROperand(text)
                for (otherKey, other) in candidates {
                    let contained: Bool
                    if let ip = IPAddress.parse(other) {
                        contained = network.contains(ip)
                    } else {
                        let subnet = try IPNetwork.parseCIDROperand(other)
                        contained = network.contains(subnet.first) && network.contains(subnet.last)
                    }
                    if contained { matches.append(.array([key, otherKey])) }
                }
            }
            return .set(RegoSet(matches))
        },
    ]

    /// The operands of `net.cidr_contains_matches`: a string (its own key), or an array,
    /// set or object of strings or `[string, ...]` tuples, keyed by index, member or key.
    static func cidrMatchOperand(_ operand: Value, position: Int) throws -> [(Value, String)] {
        func text(_ element: Value) throws -> String {
            switch element {
            case .string(let s): return s
            case .array(let a):
                if case .string(let s)? = a.first { return s }
            default: break
            }
            throw BuiltinError.evaluation("operand \(position): element must be string or non-empty array")
        }
        switch operand {
        case .string(let s): return [(operand, s)]
        case .array(let a): return try a.enumerated().map { (Value($0.offset), try text($0.element)) }
        case .set(let s): return try s.map { ($0, try text($0)) }
        case .object(let o): return try o.map { ($0.key, try text($0.value)) }
        default:
            throw BuiltinError.operand(position, expectedOneOf: ["string", "array", "set", "object"], got: operand)
        }
    }
}

/// An IPv4 or IPv6 address as an unsigned integer of 32 or 128 bits.
struct IPAddress: Equatable {
    var value: Bits128
    var isV4: Bool

    var bits: Int { isV4 ? 32 : 128 }

    /// Go's `net.ParseIP`; IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is an IPv4 address.
    static func parse(_ s: String) -> IPAddress? {
        if let v4 = parseV4(Substring(s)) { return IPAddress(value: Bits128(v4), isV4: true) }
        guard s.utf8.contains(UInt8(ascii: ":")), let v6 = parseV6(s) else { return nil }
        if v6 >> 32 == Bits128(0xFFFF) { return IPAddress(value: v6 & Bits128(0xFFFF_FFFF), isV4: true) }
        return IPAddress(value: v6, isV4: false)
    }

    /// Dotted-quad IPv4, read byte by byte (policies test addresses against many ranges).
    static func parseV4(_ s: Substring) -> UInt32? {
        var value: UInt32 = 0, octet: UInt32 = 0, digits = 0, dots = 0, leadingZero = false
        for b in s.utf8 {
            if b == UInt8(ascii: ".") {
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | octet
                octet = 0; digits = 0; dots += 1
            } else if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                // No leading zeros ("01"), as Go's ParseIP.
                if digits == 1 && leadingZero { return nil }
                if digits == 0 { leadingZero = b == UInt8(ascii: "0") }
                digits += 1
                octet = octet * 10 + UInt32(b - UInt8(ascii: "0"))
                guard digits <= 3, octet <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return value << 8 | octet
    }

    static func parseV6(_ s: String) -> Bits128? {
        var groups: [UInt16] = []
        var compressAt: Int?
        var rest = Substring(s)
        if rest.hasPrefix("::") { compressAt = 0; rest = rest.dropFirst(2) }
        while !rest.isEmpty {
            // An embedded IPv4 address may end the text.
            if rest.contains("."), !rest.contains(":") {
                guard let v4 = parseV4(rest) else { return nil }
                groups.append(UInt16(v4 >> 16)); groups.append(UInt16(v4 & 0xFFFF))
                rest = ""
                break
            }
            let end = rest.firstIndex(of: ":") ?? rest.endIndex
            let field = rest[..<end]
            guard !field.isEmpty, field.count <= 4, let g = UInt16(field, radix: 16) else { return nil }
            groups.append(g)
            rest = rest[end...]
            if rest.hasPrefix("::") {
                guard compressAt == nil else { return nil }
                compressAt = groups.count
                rest = rest.dropFirst(2)
            } else if rest.hasPrefix(":") {
                rest = rest.dropFirst()
                guard !rest.isEmpty else { return nil }
            }
        }
        if let at = compressAt {
            guard groups.count < 8 else { return nil }
            groups.insert(contentsOf: [UInt16](repeating: 0, count: 8 - groups.count), at: at)
        }
        guard groups.count == 8 else { return nil }
        return groups.reduce(Bits128(0)) { $0 << 16 | Bits128(UInt32($1)) }
    }

    /// Go's `IP.String()`: dotted IPv4, or RFC 5952 IPv6 (longest zero run compressed).
    var description: String {
        if isV4 {
            let v = UInt32(truncatingIfNeeded: value.low)
            return "\(v >> 24).\(v >> 16 & 0xFF).\(v >> 8 & 0xFF).\(v & 0xFF)"
        }
        let groups = (0..<8).map { i in UInt16(truncatingIfNeeded: (value >> (16 * (7 - i))).low) }
        var bestStart = -1, bestLength = 0, i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8, groups[j] == 0 { j += 1 }
                if j - i > bestLength && j - i >= 2 { bestStart = i; bestLength = j - i }
                i = j
            } else { i += 1 }
        }
        var out = ""
        i = 0
        while i < 8 {
            if i == bestStart {
                out += "::"
                i += bestLength
                continue
            }
            if !out.isEmpty && !out.hasSuffix(":") { out += ":" }
            out += String(groups[i], radix: 16)
            i += 1
        }
        return out
    }
}

/// An address block: its first address and prefix length.
struct IPNetwork {
    var first: IPAddress
    var prefix: Int

    var last: IPAddress {
        return IPAddress(value: first.value | Bits128.lowMask(first.bits - prefix), isV4: first.isV4)
    }

    /// Go's `net.ParseCIDR` (the network, with host bits cleared).
    static func parseCIDR(_ s: String) -> IPNetwork? {
        guard let slash = s.utf8.lastIndex(of: UInt8(ascii: "/")) else { return nil }
        let addressText = s[..<slash], prefixText = s.utf8[s.utf8.index(after: slash)...]
        guard !prefixText.isEmpty, prefixText.count <= 3,
              prefixText.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              !(prefixText.count > 1 && prefixText.first == UInt8(ascii: "0")) else { return nil }
        let prefix = prefixText.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        var address: IPAddress
        if let v4 = IPAddress.parseV4(addressText) {
            address = IPAddress(value: Bits128(v4), isV4: true)
        } else if addressText.utf8.contains(UInt8(ascii: ":")), let v6 = IPAddress.parseV6(String(addressText)) {
            address = IPAddress(value: v6, isV4: false)
        } else { return nil }
        guard prefix <= address.bits else { return nil }
        let hostBits = address.bits - prefix
        address.value = (address.value >> hostBits) << hostBits
        return IPNetwork(first: address, prefix: prefix)
    }

    static func parseCIDROperand(_ s: String) throws -> IPNetwork {
        guard let n = parseCIDR(s) else { throw BuiltinError.evaluation("invalid CIDR address: \(s)") }
        return n
    }

    /// A CIDR, or a bare IPv4 address with its classful default mask (as Go's
    /// `IP.DefaultMask`, which OPA's `net.cidr_merge` uses).
    static func parseForMerge(_ s: String) throws -> IPNetwork {
        if s.contains("/") { return try parseCIDROperand(s) }
        guard let ip = IPAddress.parse(s) else { throw BuiltinError.evaluation("invalid CIDR address: \(s)") }
        guard ip.isV4 else { throw BuiltinError.evaluation("IPv6 invalid: needs prefix length") }
        let firstOctet = UInt32(truncatingIfNeeded: ip.value.low) >> 24
        let prefix = firstOctet < 0x80 ? 8 : (firstOctet < 0xC0 ? 16 : 24)
        return try parseCIDROperand(ip.description + "/\(prefix)")
    }

    /// The fewest blocks covering exactly the union of `blocks` (all of one family).
    static func merge(_ blocks: [IPNetwork]) -> [IPNetwork] {
        guard let family = blocks.first?.first else { return [] }
        var ranges = blocks.map { ($0.first.value, $0.last.value) }.sorted { $0.0 < $1.0 }
        var merged: [(Bits128, Bits128)] = []
        for r in ranges {
            if let last = merged.last, last.1 == Bits128.max || r.0 <= last.1 + 1 {
                merged[merged.count - 1].1 = max(last.1, r.1)
            } else {
                merged.append(r)
            }
        }
        ranges = merged
        var out: [IPNetwork] = []
        for (low, high) in ranges {
            var start = low
            while start <= high {
                // The largest aligned block starting at `start` that stays within the range.
                var size = family.bits
                while size > 0 {
                    let hostBits = family.bits - size + 1
                    let mask = Bits128.lowMask(hostBits)
                    guard start & mask == Bits128(0), start | mask <= high else { break }
                    size -= 1
                }
                let block = IPNetwork(first: IPAddress(value: start, isV4: family.isV4), prefix: size)
                out.append(block)
                guard block.last.value < high else { break }
                start = block.last.value + 1
            }
        }
        return out
    }

    /// `10.0.0.0/8`, `2001:db8::/32`.
    var description: String { first.description + "/\(prefix)" }

    /// Go's `IPNet.Contains`: families must match (IPv4-mapped addresses count as IPv4).
    func contains(_ ip: IPAddress) -> Bool {
        guard ip.isV4 == first.isV4 else { return false }
        return ip.value >> (first.bits - prefix) == first.value >> (first.bits - prefix)
    }
}

/// An unsigned 128-bit number (enough for any address), without allocation.
struct Bits128: Equatable, Comparable {
    var high: UInt64
    var low: UInt64

    init(high: UInt64, low: UInt64) { self.high = high; self.low = low }
    init(_ v: UInt32) { self.init(high: 0, low: UInt64(v)) }

    static let max = Bits128(high: .max, low: .max)

    /// The lowest `n` bits set (0 ≤ n ≤ 128).
    static func lowMask(_ n: Int) -> Bits128 {
        if n <= 0 { return Bits128(0) }
        if n >= 128 { return .max }
        if n >= 64 { return Bits128(high: n == 64 ? 0 : (UInt64.max >> (128 - n)), low: .max) }
        return Bits128(high: 0, low: UInt64.max >> (64 - n))
    }

    static func < (a: Bits128, b: Bits128) -> Bool { a.high != b.high ? a.high < b.high : a.low < b.low }
    static func | (a: Bits128, b: Bits128) -> Bits128 { Bits128(high: a.high | b.high, low: a.low | b.low) }
    static func & (a: Bits128, b: Bits128) -> Bits128 { Bits128(high: a.high & b.high, low: a.low & b.low) }

    static func >> (a: Bits128, n: Int) -> Bits128 {
        if n <= 0 { return a }
        if n >= 128 { return Bits128(0) }
        if n >= 64 { return Bits128(high: 0, low: a.high >> (n - 64)) }
        return Bits128(high: a.high >> n, low: a.low >> n | a.high << (64 - n))
    }

    static func << (a: Bits128, n: Int) -> Bits128 {
        if n <= 0 { return a }
        if n >= 128 { return Bits128(0) }
        if n >= 64 { return Bits128(high: a.low << (n - 64), low: 0) }
        return Bits128(high: a.high << n | a.low >> (64 - n), low: a.low << n)
    }

    /// Wrapping increment.
    static func + (a: Bits128, one: Int) -> Bits128 {
        let (low, carry) = a.low.addingReportingOverflow(UInt64(one))
        return Bits128(high: a.high &+ (carry ? 1 : 0), low: low)
    }
}
