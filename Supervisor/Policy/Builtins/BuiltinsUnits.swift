import BigInt

/// `units.parse` (SI and binary suffixes, `m` for milli; exact, like OPA's big.Rat) and
/// `units.parse_bytes` (case-insensitive suffixes, truncated to whole bytes).
extension BuiltinRegistry {
    static let unitBuiltins: [Builtin] = [
        Builtin("units.parse", arity: 1) { args, _ in
            let s = try args.string(0).replacingOccurrences(of: "\"", with: "")
            guard !s.contains(" ") else { throw BuiltinError.evaluation("spaces not allowed in resource strings") }
            let (amount, rawUnit) = splitAmountAndUnit(s)
            guard !amount.isEmpty else { throw BuiltinError.evaluation("no amount provided") }
            // Only the letters after the first are case-insensitive, so `m` and `M` differ.
            let unit = rawUnit.count > 1 ? String(rawUnit.prefix(1)) + rawUnit.dropFirst().lowercased() : rawUnit
            let multiplier: ExactDecimal
            switch unit {
            case "": multiplier = ExactDecimal(1)
            case "m": multiplier = ExactDecimal(mantissa: 1, exponent: -3)
            default:
                guard let factor = unitFactor(unit.lowercased()) else {
                    throw BuiltinError.evaluation("unit \(unit) not recognized")
                }
                multiplier = ExactDecimal(factor)
            }
            guard let number = ExactDecimal(parsing: amount) else { throw BuiltinError.evaluation("could not parse amount to a number") }
            let value = number * multiplier
            if value.isInteger { return .number(Number(value.truncated)) }
            return .number(value.rounded(places: 10).number)
        },
        Builtin("units.parse_bytes", arity: 1) { args, _ in
            let s = try args.string(0).lowercased().replacingOccurrences(of: "\"", with: "")
            guard !s.contains(" ") else { throw BuiltinError.evaluation("spaces not allowed in resource strings") }
            let (amount, unit) = splitAmountAndUnit(s)
            guard !amount.isEmpty else { throw BuiltinError.evaluation("no byte amount provided") }
            var factor: BigInt = 1
            if !unit.isEmpty {
                // "kb" and "k" are kilobytes, "kib" and "ki" kibibytes.
                let base = unit.hasSuffix("b") && unit.count > 1 ? String(unit.dropLast()) : unit
                guard let f = unitFactor(base) else {
                    throw BuiltinError.evaluation("byte unit \(unit) not recognized")
                }
                factor = f
            }
            guard let number = ExactDecimal(parsing: amount) else { throw BuiltinError.evaluation("could not parse byte amount to a number") }
            return .number(Number((number * ExactDecimal(factor)).truncated))
        },
    ]

    /// The multiplier of a lower-case unit (`k`, `ki`, `m`…`ei`); `m` is mega here, and
    /// the caller handles milli.
    static func unitFactor(_ unit: String) -> BigInt? {
        let decimal = ["k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6]
        if let power = decimal[unit] { return BigInt(1000).power(power) }
        if unit.count == 2, unit.hasSuffix("i"), let power = decimal[String(unit.prefix(1))] { return BigInt(1024).power(power) }
        return nil
    }

    /// Splits `"4.5e1GiB"` into `("4.5e1", "GiB")`: the amount runs over digits, `.`, signs
    /// and an exponent `e`/`E` that is followed by a digit or sign; the rest is the unit.
    static func splitAmountAndUnit(_ s: String) -> (String, String) {
        let chars = Array(s)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isASCII && (c.isNumber || c == "." || c == "+" || c == "-") { i += 1; continue }
            if c == "e" || c == "E" {
                guard i + 1 < chars.count, chars[i + 1].isASCII, chars[i + 1].isNumber || chars[i + 1] == "+" || chars[i + 1] == "-" else { break }
                i += chars[i + 1] == "+" || chars[i + 1] == "-" ? 2 : 1
                continue
            }
            break
        }
        return (String(chars[..<i]), String(chars[i...]))
    }
}
