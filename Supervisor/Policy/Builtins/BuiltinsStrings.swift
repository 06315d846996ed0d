import BigInt

/// String builtins with OPA's (Go's) semantics: comparisons are byte-wise, positions count
/// runes (Unicode scalars), never grapheme clusters.
extension BuiltinRegistry {
    static let stringBuiltins: [Builtin] = [
        Builtin("concat", arity: 2) { args, _ in
            let delimiter = try args.string(0)
            let parts = try args.arrayOrSet(1)
            let strings = try parts.map { part -> String in
                guard case .string(let s) = part else {
                    throw BuiltinError.operandElement(2, of: args[1], got: part, expected: "string")
                }
                return s
            }
            return .string(strings.joined(separator: delimiter))
        },
        Builtin("contains", arity: 2) { args, _ in
            Value(GoText.contains(try args.string(0), try args.string(1)))
        },
        Builtin("startswith", arity: 2) { args, _ in
            Value(GoText.hasPrefix(try args.string(0), try args.string(1)))
        },
        Builtin("endswith", arity: 2) { args, _ in
            Value(GoText.hasSuffix(try args.string(0), try args.string(1)))
        },
        Builtin("lower", arity: 1) { args, _ in .string(GoText.mapCase(try args.string(0), upper: false)) },
        Builtin("upper", arity: 1) { args, _ in .string(GoText.mapCase(try args.string(0), upper: true)) },
        Builtin("split", arity: 2) { args, _ in
            .array(GoText.split(try args.string(0), try args.string(1)).map(Value.string))
        },
        Builtin("replace", arity: 3) { args, _ in
            .string(GoText.replaceAll(try args.string(0), try args.string(1), try args.string(2)))
        },
        Builtin("strings.replace_n", arity: 2) { args, _ in
            let patterns = try args.object(0)
            var pairs: [([UInt8], [UInt8])] = []
            for (key, value) in patterns {
                guard case .string(let old) = key else { throw BuiltinError.operandMessage(1, "non-string key found in pattern object") }
                guard case .string(let new) = value else { throw BuiltinError.operandMessage(1, "non-string value found in pattern object") }
                pairs.append((Array(old.utf8), Array(new.utf8)))
            }
            return .string(replaceMany(try args.string(1), pairs))
        },
        Builtin("trim", arity: 2) { args, _ in
            .string(trim(try args.string(0), cutset: try args.string(1), leading: true, trailing: true))
        },
        Builtin("trim_left", arity: 2) { args, _ in
            .string(trim(try args.string(0), cutset: try args.string(1), leading: true, trailing: false))
        },
        Builtin("trim_right", arity: 2) { args, _ in
            .string(trim(try args.string(0), cutset: try args.string(1), leading: false, trailing: true))
        },
        Builtin("trim_prefix", arity: 2) { args, _ in
            let s = try args.string(0), prefix = try args.string(1)
            guard GoText.hasPrefix(s, prefix) else { return .string(s) }
            return .string(GoText.string(fromBytes: Array(s.utf8.dropFirst(prefix.utf8.count))))
        },
        Builtin("trim_suffix", arity: 2) { args, _ in
            let s = try args.string(0), suffix = try args.string(1)
            guard GoText.hasSuffix(s, suffix) else { return .string(s) }
            return .string(GoText.string(fromBytes: Array(s.utf8.dropLast(suffix.utf8.count))))
        },
        Builtin("trim_space", arity: 1) { args, _ in
            let scalars = Array(try args.string(0).unicodeScalars)
            var lo = 0, hi = scalars.count
            while lo < hi, GoText.isSpace(scalars[lo]) { lo += 1 }
            while hi > lo, GoText.isSpace(scalars[hi - 1]) { hi -= 1 }
            return .string(String(String.UnicodeScalarView(scalars[lo..<hi])))
        },
        Builtin("format_int", arity: 2) { args, _ in
            let n = try args.number(0)
            let base = try args.number(1)
            let radix: Int
            switch base.int {
            case 2?, 8?, 10?, 16?: radix = base.int ?? 10
            default: throw BuiltinError.operandMessage(2, "must be one of {2, 8, 10, 16}")
            }
            return .string(String(truncatedInteger(n), radix: radix))
        },
        Builtin("indexof", arity: 2) { args, _ in
            let base = Array(try args.string(0).unicodeScalars)
            let search = Array(try args.string(1).unicodeScalars)
            guard !search.isEmpty else { throw BuiltinError.evaluation("empty search character") }
            return Value(runeIndex(of: search, in: base, from: 0) ?? -1)
        },
        Builtin("indexof_n", arity: 2) { args, _ in
            let base = Array(try args.string(0).unicodeScalars)
            let search = Array(try args.string(1).unicodeScalars)
            guard !search.isEmpty else { throw BuiltinError.evaluation("empty search character") }
            var found: [Value] = []
            var from = 0
            while let i = runeIndex(of: search, in: base, from: from) {
                found.append(Value(i))
                from = i + 1
            }
            return .array(found)
        },
        Builtin("substring", arity: 3) { args, _ in
            let runes = Array(try args.string(0).unicodeScalars)
            let offset = try args.integer(1)
            let length = try args.integer(2)
            guard offset >= 0 else { throw BuiltinError.evaluation("negative offset") }
            guard offset < runes.count else { return .string("") }
            let end = length < 0 || length >= runes.count - offset ? runes.count : offset + length
            return .string(String(String.UnicodeScalarView(runes[offset..<end])))
        },
        Builtin("strings.reverse", arity: 1) { args, _ in
            .string(String(String.UnicodeScalarView(try args.string(0).unicodeScalars.reversed())))
        },
        Builtin("strings.count", arity: 2) { args, _ in
            Value(GoText.count(try args.string(0), try args.string(1)))
        },
        Builtin("strings.any_prefix_match", arity: 2) { args, _ in
            let candidates = try args.stringOrStrings(0)
            let prefixes = try args.stringOrStrings(1)
            return Value(candidates.contains { s in prefixes.contains { GoText.hasPrefix(s, $0) } })
        },
        Builtin("strings.any_suffix_match", arity: 2) { args, _ in
            let candidates = try args.stringOrStrings(0)
            let suffixes = try args.stringOrStrings(1)
            return Value(candidates.contains { s in suffixes.contains { GoText.hasSuffix(s, $0) } })
        },
    ]

    /// Go's `strings.Trim`/`TrimLeft`/`TrimRight`: drops runes found in `cutset`.
    static func trim(_ s: String, cutset: String, leading: Bool, trailing: Bool) -> String {
        let cut = Set(cutset.unicodeScalars)
        guard !cut.isEmpty else { return s }
        let scalars = Array(s.unicodeScalars)
        var lo = 0, hi = scalars.count
        if leading { while lo < hi, cut.contains(scalars[lo]) { lo += 1 } }
        if trailing { while hi > lo, cut.contains(scalars[hi - 1]) { hi -= 1 } }
        return String(String.UnicodeScalarView(scalars[lo..<hi]))
    }

    /// Rune index of `needle` in `haystack` at or after `from`.
    static func runeIndex(of needle: [Unicode.Scalar], in haystack: [Unicode.Scalar], from: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var i = from
        while i + needle.count <= haystack.count {
            if haystack[i] == needle[0], haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// The integer part of a number, truncated toward zero (Go's `big.Float.Int`).
    static func truncatedInteger(_ n: Number) -> BigInt {
        if let b = n.bigInt { return b }
        let d = n.double
        guard d.isFinite else { return 0 }
        return BigInt(d.rounded(.towardZero))
    }

    /// Go's `strings.NewReplacer(old1, new1, ...)`: scanning left to right, at each position
    /// the first pair (in argument order) whose `old` matches is replaced; no overlaps.
    static func replaceMany(_ s: String, _ pairs: [([UInt8], [UInt8])]) -> String {
        let bytes = Array(s.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        let emptyReplacement = pairs.first { $0.0.isEmpty }?.1
        var i = 0
        while i <= bytes.count {
            var matched = false
            for (old, new) in pairs where !old.isEmpty && i + old.count <= bytes.count {
                if bytes[i..<(i + old.count)].elementsEqual(old) {
                    out.append(contentsOf: new)
                    i += old.count
                    matched = true
                    break
                }
            }
            if matched { continue }
            if let empty = emptyReplacement { out.append(contentsOf: empty) }
            guard i < bytes.count else { break }
            out.append(bytes[i])
            i += 1
        }
        return GoText.string(fromBytes: out)
    }
}
