import BigInt

/// An exact decimal, `mantissa × 10^exponent`. OPA computes sums, products and unit
/// conversions with arbitrary-precision numbers, so `sum([0.1, 0.2])` is `0.3` and
/// `units.parse("0.0005K")` is exactly `0.5`; this type gives the same answers.
struct ExactDecimal: Sendable, Equatable {
    var mantissa: BigInt
    var exponent: Int

    init(mantissa: BigInt, exponent: Int) {
        self.mantissa = mantissa
        self.exponent = exponent
    }

    init(_ integer: BigInt) { self.init(mantissa: integer, exponent: 0) }

    /// The decimal value of a number (floats by their shortest round-trip text).
    init?(_ number: Number) {
        if let b = number.bigInt { self.init(b); return }
        guard number.double.isFinite, let parsed = ExactDecimal(parsing: number.description) else { return nil }
        self = parsed
    }

    /// Parses `-12.5`, `.5`, `1e3`, `3.2E-2` (Go's `big.Rat.SetString` decimal forms).
    init?(parsing text: String) {
        var s = Substring(text)
        var negative = false
        if s.first == "+" || s.first == "-" { negative = s.first == "-"; s = s.dropFirst() }
        var exp = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            var expText = s[s.index(after: e)...]
            var expNegative = false
            if expText.first == "+" || expText.first == "-" { expNegative = expText.first == "-"; expText = expText.dropFirst() }
            guard !expText.isEmpty, expText.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(expText), v < 100_000 else { return nil }
            exp = expNegative ? -v : v
            s = s[..<e]
        }
        var digits = String(s)
        if let dot = s.firstIndex(of: ".") {
            let fraction = s[s.index(after: dot)...]
            digits = String(s[..<dot]) + fraction
            exp -= fraction.count
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let m = BigInt(digits, radix: 10) else { return nil }
        self.init(mantissa: negative ? -m : m, exponent: exp)
    }

    static func + (a: ExactDecimal, b: ExactDecimal) -> ExactDecimal {
        let e = min(a.exponent, b.exponent)
        return ExactDecimal(mantissa: a.scaled(to: e) + b.scaled(to: e), exponent: e)
    }

    static func * (a: ExactDecimal, b: ExactDecimal) -> ExactDecimal {
        ExactDecimal(mantissa: a.mantissa * b.mantissa, exponent: a.exponent + b.exponent)
    }

    /// The mantissa for a smaller exponent `e` (≤ exponent).
    func scaled(to e: Int) -> BigInt { mantissa * BigInt(10).power(exponent - e) }

    /// The integer part, truncated toward zero.
    var truncated: BigInt {
        if exponent >= 0 { return mantissa * BigInt(10).power(exponent) }
        return mantissa / BigInt(10).power(-exponent)
    }

    /// True when there is no fractional part.
    var isInteger: Bool {
        exponent >= 0 || mantissa % BigInt(10).power(-exponent) == 0
    }

    /// Rounded to `places` decimal places, half away from zero (Go's `Rat.FloatString`).
    func rounded(places: Int) -> ExactDecimal {
        guard exponent < -places else { return self }
        let divisor = BigInt(10).power(-places - exponent)
        var (q, r) = mantissa.quotientAndRemainder(dividingBy: divisor)
        if r.magnitude * 2 >= divisor.magnitude { q += mantissa.sign == .minus ? -1 : 1 }
        return ExactDecimal(mantissa: q, exponent: -places)
    }

    /// Plain decimal text such as `-0.35` or `1126.4`.
    var text: String {
        if exponent >= 0 { return String(mantissa * BigInt(10).power(exponent)) }
        var digits = String(mantissa.magnitude)
        let places = -exponent
        if digits.count <= places { digits = String(repeating: "0", count: places - digits.count + 1) + digits }
        let point = digits.index(digits.endIndex, offsetBy: -places)
        var frac = String(digits[point...])
        while frac.last == "0" { frac.removeLast() }
        let sign = mantissa.sign == .minus && mantissa != 0 ? "-" : ""
        return sign + String(digits[..<point]) + (frac.isEmpty ? "" : "." + frac)
    }

    /// As a Rego number: exact when integral, else the nearest float.
    var number: Number {
        if isInteger { return Number(truncated) }
        return Number(parsing: text) ?? Number(0)
    }
}
