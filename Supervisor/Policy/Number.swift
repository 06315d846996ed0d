import BigInt
import Foundation

/// A Rego number: an exact integer of any size, or a binary floating-point value.
///
/// Integers stay exact (`28857836529306024611913 != 28857836529306024611912`);
/// `1 == 1.0` holds, and both hash alike, as in OPA.
/// Build one with `Number(5)`, `Number(BigInt(...))`, `Number(2.5)` or `Number(parsing: "1e3")`.
public struct Number: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Small integers avoid BigInt's allocation on the hot path; `big` is used only
    /// when a value does not fit in `Int`, boxed so that a number (and so every `Value`)
    /// stays two words small.
    @usableFromInline
    enum Storage: Sendable {
        case int(Int)
        case big(BigBox)
        case float(Double)
    }

    @usableFromInline
    final class BigBox: Sendable {
        let value: BigInt
        init(_ value: BigInt) { self.value = value }
    }

    @usableFromInline
    let storage: Storage

    /// An integer number.
    public init(_ value: Int) { storage = .int(value) }

    /// An integer number of any size.
    public init(_ value: BigInt) {
        if let small = Int(exactly: value) { storage = .int(small) } else { storage = .big(BigBox(value)) }
    }

    /// A floating-point number. Integral values within 2^63 are stored as integers,
    /// so `2.0` behaves exactly like `2`.
    public init(_ value: Double) {
        if value.isFinite, value.rounded() == value, abs(value) < 9.0e18 {
            storage = .int(Int(value))
        } else if value.isFinite, value.rounded() == value, abs(value) < 1e30 {
            storage = .big(BigBox(BigInt(value)))
        } else {
            storage = .float(value)
        }
    }

    /// Parses a JSON/Rego number literal (`12`, `-3.5`, `1e10`). Returns nil when malformed.
    public init?(parsing text: String) {
        let isInteger = !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
        if isInteger {
            if let small = Int(text) { self.init(small); return }
            if let big = BigInt(text, radix: 10) { self.init(big); return }
            return nil
        }
        // An exponent form of an integer (1e3) stays exact when it is integral.
        if let exact = Number.exactInteger(fromDecimal: text) { self.init(exact); return }
        guard let d = Double(text) else { return nil }
        self.init(d)
    }

    /// Exact integer value of a decimal literal such as `1.0`, `2.5e3` or `1e21`, if integral.
    private static func exactInteger(fromDecimal text: String) -> BigInt? {
        var mantissa = text
        var exponent = 0
        if let eIndex = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = String(text[..<eIndex])
            guard let e = Int(text[text.index(after: eIndex)...]), abs(e) < 400 else { return nil }
            exponent = e
        }
        var negative = false
        if mantissa.hasPrefix("-") { negative = true; mantissa.removeFirst() } else if mantissa.hasPrefix("+") { mantissa.removeFirst() }
        var digits = mantissa
        if let dot = mantissa.firstIndex(of: ".") {
            let fraction = mantissa[mantissa.index(after: dot)...]
            digits = String(mantissa[..<dot]) + fraction
            exponent -= fraction.count
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        while exponent < 0 {
            guard digits.last == "0" else { return nil }
            digits.removeLast(); exponent += 1
            if digits.isEmpty { digits = "0" }
        }
        guard var value = BigInt(digits, radix: 10) else { return nil }
        if exponent > 0 { value *= BigInt(10).power(exponent) }
        return negative ? -value : value
    }

    /// The integer value when this number is integral.
    public var bigInt: BigInt? {
        switch storage {
        case .int(let i): return BigInt(i)
        case .big(let b): return b.value
        case .float: return nil
        }
    }

    /// The value as `Int` when it is integral and fits.
    public var int: Int? {
        if case .int(let i) = storage { return i }
        return nil
    }

    /// True when the number has no fractional part.
    public var isInteger: Bool {
        if case .float = storage { return false }
        return true
    }

    /// The nearest `Double`.
    public var double: Double {
        switch storage {
        case .int(let i): return Double(i)
        case .big(let b): return Double(b.value)
        case .float(let d): return d
        }
    }

    public static func == (lhs: Number, rhs: Number) -> Bool { compare(lhs, rhs) == 0 }
    public static func < (lhs: Number, rhs: Number) -> Bool { compare(lhs, rhs) < 0 }

    /// -1, 0 or 1.
    public static func compare(_ lhs: Number, _ rhs: Number) -> Int {
        switch (lhs.storage, rhs.storage) {
        case let (.int(a), .int(b)): return a < b ? -1 : (a == b ? 0 : 1)
        case let (.float(a), .float(b)): return a < b ? -1 : (a == b ? 0 : 1)
        case (.float, _), (_, .float):
            let a = lhs.double, b = rhs.double
            return a < b ? -1 : (a == b ? 0 : 1)
        default:
            let a = lhs.bigInt ?? 0, b = rhs.bigInt ?? 0
            return a < b ? -1 : (a == b ? 0 : 1)
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch storage {
        case .int(let i): hasher.combine(i)
        case .big(let b): hasher.combine(b.value)
        case .float(let d): hasher.combine(d)
        }
    }

    /// The JSON text OPA would print: integers exactly, floats in shortest round-trip form.
    public var description: String {
        switch storage {
        case .int(let i): return String(i)
        case .big(let b): return String(b.value)
        case .float(let d):
            if d.isNaN || d.isInfinite { return "null" }
            var text = "\(d)"
            // Swift prints 1e+20 as "1e+20"; JSON accepts it. Keep it short.
            if text.hasSuffix(".0") { text.removeLast(2) }
            return text
        }
    }
}

// MARK: - Arithmetic

extension Number {
    /// Sum; integers stay exact.
    public static func + (lhs: Number, rhs: Number) -> Number {
        if case let (.int(a), .int(b)) = (lhs.storage, rhs.storage) {
            let (r, o) = a.addingReportingOverflow(b)
            if !o { return Number(r) }
        }
        if lhs.isInteger && rhs.isInteger, let a = lhs.bigInt, let b = rhs.bigInt { return Number(a + b) }
        return Number(lhs.double + rhs.double)
    }

    /// Difference; integers stay exact.
    public static func - (lhs: Number, rhs: Number) -> Number {
        if case let (.int(a), .int(b)) = (lhs.storage, rhs.storage) {
            let (r, o) = a.subtractingReportingOverflow(b)
            if !o { return Number(r) }
        }
        if lhs.isInteger && rhs.isInteger, let a = lhs.bigInt, let b = rhs.bigInt { return Number(a - b) }
        return Number(lhs.double - rhs.double)
    }

    /// Product; integers stay exact.
    public static func * (lhs: Number, rhs: Number) -> Number {
        if case let (.int(a), .int(b)) = (lhs.storage, rhs.storage) {
            let (r, o) = a.multipliedReportingOverflow(by: b)
            if !o { return Number(r) }
        }
        if lhs.isInteger && rhs.isInteger, let a = lhs.bigInt, let b = rhs.bigInt { return Number(a * b) }
        return Number(lhs.double * rhs.double)
    }

    /// Quotient, or nil when dividing by zero. Exact when both are integers and divide evenly.
    public func divided(by rhs: Number) -> Number? {
        if rhs.isZero { return nil }
        if isInteger && rhs.isInteger, let a = bigInt, let b = rhs.bigInt {
            let (q, r) = a.quotientAndRemainder(dividingBy: b)
            if r == 0 { return Number(q) }
        }
        return Number(double / rhs.double)
    }

    /// Integer remainder (sign of the dividend, like Go), or nil when either is not an integer or rhs is zero.
    public func remainder(dividingBy rhs: Number) -> Number? {
        guard let a = bigInt, let b = rhs.bigInt, b != 0 else { return nil }
        return Number(a % b)
    }

    /// Negation.
    public static prefix func - (value: Number) -> Number { Number(0) - value }

    /// True for 0 and 0.0.
    public var isZero: Bool {
        switch storage {
        case .int(let i): return i == 0
        case .big(let b): return b.value == 0
        case .float(let d): return d == 0
        }
    }

    /// The absolute value.
    public var magnitude: Number { self < Number(0) ? -self : self }
}
