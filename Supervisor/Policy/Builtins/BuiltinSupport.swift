import BigInt

// Helpers shared by the builtin library: OPA's other operand error shapes, operand
// conversions with OPA's exact messages, and Go's byte-oriented string semantics.

extension BuiltinError {
    /// OPA's error for a wrong operand type with several accepted types:
    /// `operand 1 must be one of {set, array} but got string`.
    static func operand(_ position: Int, expectedOneOf types: [String], got value: Value) -> BuiltinError {
        let expected = types.count == 1 ? types[0] : "one of {" + types.joined(separator: ", ") + "}"
        return .operand(position, expected: expected, got: value)
    }

    /// OPA's error for a wrong element inside a composite operand:
    /// `operand 1 must be array of strings but got array containing number`.
    static func operandElement(_ position: Int, of composite: Value, got element: Value, expected: String) -> BuiltinError {
        let kind = composite.typeName
        return BuiltinError(.type, "operand \(position) must be \(kind) of \(expected)s but got \(kind) containing \(element.typeName)")
    }

    /// OPA's free-form operand error: `operand 2 <text>` (an `eval_type_error`).
    static func operandMessage(_ position: Int, _ text: String) -> BuiltinError {
        BuiltinError(.type, "operand \(position) \(text)")
    }
}

extension Array where Element == Value {
    /// Operand `i` as an `Int`, with OPA's messages: a non-number is a type error naming
    /// `number`, a fraction is `must be integer number but got floating-point number`.
    func integer(_ i: Int) throws -> Int {
        let n = try number(i)
        guard n.isInteger else { throw BuiltinError.operandMessage(i + 1, "must be integer number but got floating-point number") }
        guard let v = n.int else { throw BuiltinError.evaluation("operand \(i + 1) out of range") }
        return v
    }

    /// Operand `i` as an exact integer of any size (OPA's `BigIntOperand`).
    func bigInteger(_ i: Int) throws -> BigInt {
        guard case .number(let n) = self[i] else { throw BuiltinError.operand(i + 1, expected: "integer", got: self[i]) }
        guard let b = n.bigInt else { throw BuiltinError.operandMessage(i + 1, "must be integer number but got floating-point number") }
        return b
    }

    /// Operand `i` as the members of an array or a set (in the set's order).
    func arrayOrSet(_ i: Int, expected: [String] = ["set", "array"]) throws -> [Value] {
        switch self[i] {
        case .array(let a): return a
        case .set(let s): return s.elements
        default: throw BuiltinError.operand(i + 1, expectedOneOf: expected, got: self[i])
        }
    }

    /// Operand `i` as a list of strings: one string, or an array or set of strings
    /// (OPA's operand shape for `strings.any_prefix_match` and friends).
    func stringOrStrings(_ i: Int) throws -> [String] {
        let operand = self[i]
        switch operand {
        case .string(let s): return [s]
        case .array, .set:
            let items = operand.arrayValue ?? operand.setValue?.elements ?? []
            return try items.map { item in
                guard case .string(let s) = item else {
                    throw BuiltinError.operandElement(i + 1, of: operand, got: item, expected: "string")
                }
                return s
            }
        default: throw BuiltinError.operand(i + 1, expectedOneOf: ["string", "set", "array"], got: operand)
        }
    }
}

/// Go's view of text: strings are bytes, indexes count runes, and invalid UTF-8 decodes
/// one byte at a time to U+FFFD.
enum GoText {
    /// Decodes bytes as Go's `utf8.DecodeRune` does: each byte that does not start a valid
    /// sequence becomes one U+FFFD, so rune counts agree with Go's.
    static func string(fromBytes bytes: [UInt8]) -> String {
        if let valid = String(validating: bytes, as: UTF8.self) { return valid }
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < bytes.count {
            let (scalar, width) = decodeRune(bytes, at: i)
            scalars.append(scalar)
            i += width
        }
        return String(scalars)
    }

    /// One rune at `i` and its width in bytes; an invalid sequence yields (U+FFFD, 1).
    static func decodeRune(_ b: [UInt8], at i: Int) -> (Unicode.Scalar, Int) {
        let replacement: (Unicode.Scalar, Int) = ("\u{FFFD}", 1)
        let c0 = b[i]
        if c0 < 0x80 { return (Unicode.Scalar(c0), 1) }
        func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> UInt32? {
            guard i + k < b.count, b[i + k] >= lo, b[i + k] <= hi else { return nil }
            return UInt32(b[i + k] & 0x3F)
        }
        switch c0 {
        case 0xC2...0xDF:
            guard let c1 = cont(1) else { return replacement }
            return (Unicode.Scalar(UInt32(c0 & 0x1F) << 6 | c1) ?? "\u{FFFD}", 2)
        case 0xE0...0xEF:
            let lo: UInt8 = c0 == 0xE0 ? 0xA0 : 0x80
            let hi: UInt8 = c0 == 0xED ? 0x9F : 0xBF
            guard let c1 = cont(1, lo, hi), let c2 = cont(2) else { return replacement }
            return (Unicode.Scalar(UInt32(c0 & 0x0F) << 12 | c1 << 6 | c2) ?? "\u{FFFD}", 3)
        case 0xF0...0xF4:
            let lo: UInt8 = c0 == 0xF0 ? 0x90 : 0x80
            let hi: UInt8 = c0 == 0xF4 ? 0x8F : 0xBF
            guard let c1 = cont(1, lo, hi), let c2 = cont(2), let c3 = cont(3) else { return replacement }
            return (Unicode.Scalar(UInt32(c0 & 0x07) << 18 | c1 << 12 | c2 << 6 | c3) ?? "\u{FFFD}", 4)
        default:
            return replacement
        }
    }

    /// Byte offset of the first occurrence of `needle` in `haystack` at or after `from`.
    static func index<H: RandomAccessCollection, N: RandomAccessCollection>(of needle: N, in haystack: H, from: Int = 0) -> Int?
    where H.Element == UInt8, N.Element == UInt8, H.Index == Int, N.Index == Int {
        if needle.isEmpty { return from <= haystack.count ? from : nil }
        guard haystack.count >= needle.count else { return nil }
        let first = needle[0]
        var i = from
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    /// True when `haystack` contains `needle` as bytes (Go's `strings.Contains`).
    static func contains(_ haystack: String, _ needle: String) -> Bool {
        // Native strings are contiguous UTF-8: search them in place, without copies.
        var h = haystack, n = needle
        return h.withUTF8 { hb in n.withUTF8 { nb in index(of: nb, in: hb) != nil } }
    }

    /// Go's `strings.HasPrefix`: byte-wise, with no Unicode normalization.
    static func hasPrefix(_ s: String, _ prefix: String) -> Bool {
        s.utf8.starts(with: prefix.utf8)
    }

    /// Go's `strings.HasSuffix`.
    static func hasSuffix(_ s: String, _ suffix: String) -> Bool {
        s.utf8.reversed().starts(with: suffix.utf8.reversed())
    }

    /// Go's `strings.ReplaceAll`: an empty `old` inserts `new` before every rune and at the end.
    static func replaceAll(_ s: String, _ old: String, _ new: String) -> String {
        if old.isEmpty {
            var out = new
            for scalar in s.unicodeScalars { out.unicodeScalars.append(scalar); out += new }
            return out
        }
        let hay = Array(s.utf8), needle = Array(old.utf8), replacement = Array(new.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(hay.count)
        var i = 0
        while let j = index(of: needle, in: hay, from: i) {
            out.append(contentsOf: hay[i..<j])
            out.append(contentsOf: replacement)
            i = j + needle.count
        }
        out.append(contentsOf: hay[i...])
        return string(fromBytes: out)
    }

    /// Go's `strings.Split`: an empty separator splits into runes.
    static func split(_ s: String, _ separator: String) -> [String] {
        if separator.isEmpty { return s.unicodeScalars.map { String($0) } }
        let hay = Array(s.utf8), needle = Array(separator.utf8)
        var parts: [String] = []
        var i = 0
        while let j = index(of: needle, in: hay, from: i) {
            parts.append(string(fromBytes: Array(hay[i..<j])))
            i = j + needle.count
        }
        parts.append(string(fromBytes: Array(hay[i...])))
        return parts
    }

    /// Go's `strings.Count`: an empty substring counts rune boundaries (runes + 1).
    static func count(_ s: String, _ sub: String) -> Int {
        if sub.isEmpty { return s.unicodeScalars.count + 1 }
        let hay = Array(s.utf8), needle = Array(sub.utf8)
        var n = 0, i = 0
        while let j = index(of: needle, in: hay, from: i) { n += 1; i = j + needle.count }
        return n
    }

    /// Go's `unicode.IsSpace`.
    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0: return true
        case 0..<0x80: return false
        default: return c.properties.isWhitespace
        }
    }

    /// Go's simple case mapping of one rune (`unicode.ToLower` / `ToUpper`): a mapping to
    /// several runes (like ß → SS) is not simple, so the rune stays.
    static func mapCase(_ s: String, upper: Bool) -> String {
        var out = String.UnicodeScalarView()
        for c in s.unicodeScalars {
            if c.isASCII {
                let v = c.value
                if upper, v >= 0x61, v <= 0x7A { out.append(Unicode.Scalar(v - 32) ?? c); continue }
                if !upper, v >= 0x41, v <= 0x5A { out.append(Unicode.Scalar(v + 32) ?? c); continue }
                out.append(c); continue
            }
            let mapped = upper ? c.properties.uppercaseMapping : c.properties.lowercaseMapping
            let scalars = mapped.unicodeScalars
            if scalars.count == 1, let m = scalars.first { out.append(m) } else { out.append(c) }
        }
        return String(out)
    }
}
