import BigInt
import Foundation

/// `sprintf` formats like Go's `fmt.Sprintf`, with operands converted as OPA does:
/// integers become Go `int` (or `*big.Int` when large), other numbers `float64`, strings
/// stay strings, and every other value becomes its Rego text (so `%v` of a set prints
/// `{1, 2}` and `%t` of `true` reports a bad verb, as in OPA).
extension BuiltinRegistry {
    static let sprintfBuiltins: [Builtin] = [
        Builtin("sprintf", arity: 2) { args, _ in
            let format = try args.string(0)
            let operands = try args.array(1)
            if let text = GoFormatter.simpleFormat(format, operands) { return .string(text) }
            return .string(GoFormatter.format(format, operands.map(GoFormatter.Argument.init)))
        },
    ]
}

extension GoFormatter {
    /// The messages policies build (`%s` and `%v` of strings, `%v` and `%d` of integers, `%%`,
    /// no flags) formatted by copying the literal runs whole. Nil for anything else, which
    /// `format` handles with Go's rules for every verb and mismatch.
    static func simpleFormat(_ format: String, _ operands: [Value]) -> String? {
        var out = ""
        var next = 0
        let bytes = format.utf8
        var run = bytes.startIndex
        var i = bytes.startIndex
        while i != bytes.endIndex {
            guard bytes[i] == UInt8(ascii: "%") else {
                i = bytes.index(after: i)
                continue
            }
            let verb = bytes.index(after: i)
            guard verb != bytes.endIndex else { return nil }
            out += format[run..<i]
            i = bytes.index(after: verb)
            run = i
            if bytes[verb] == UInt8(ascii: "%") {
                out += "%"
                continue
            }
            switch (bytes[verb], next < operands.count ? operands[next] : nil) {
            case (UInt8(ascii: "s"), .string(let s)?), (UInt8(ascii: "v"), .string(let s)?):
                out += s
            case (UInt8(ascii: "v"), .number(let n)?), (UInt8(ascii: "d"), .number(let n)?):
                guard let int = n.int else { return nil }
                out += String(int)
            default:
                return nil
            }
            next += 1
        }
        guard next == operands.count else { return nil }
        out += format[run...]
        return out
    }
}

/// A small emulation of Go's `fmt` verbs for the argument types OPA passes.
enum GoFormatter {
    enum Argument {
        case int(Int)
        case bigInt(BigInt)
        case float(Double)
        case string(String)

        init(_ value: Value) {
            switch value {
            case .number(let n):
                if let i = n.int { self = .int(i) } else if let b = n.bigInt {
                    // OPA hands a number beyond float64 to Go as its literal text; such numbers
                    // are written in exponent form (2e308), which is what this rebuilds.
                    self = Double(b).isFinite ? .bigInt(b) : .string(GoFormatter.exponentText(b))
                } else { self = .float(n.double) }
            case .string(let s): self = .string(s)
            default: self = .string(GoFormatter.regoText(value))
            }
        }

        /// Go's type name, as printed in `%!d(string=x)`.
        var typeName: String {
            switch self {
            case .int: return "int"
            case .bigInt: return "*big.Int"
            case .float: return "float64"
            case .string: return "string"
            }
        }
    }

    struct Spec {
        var minus = false, plus = false, sharp = false, space = false, zero = false
        var width: Int?
        var precision: Int?
    }

    static func format(_ format: String, _ args: [Argument]) -> String {
        let chars = Array(format.unicodeScalars)
        var out = ""
        var argIndex = 0
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c != "%" { out.unicodeScalars.append(c); i += 1; continue }
            i += 1
            var spec = Spec()
            flags: while i < chars.count {
                switch chars[i] {
                case "-": spec.minus = true
                case "+": spec.plus = true
                case "#": spec.sharp = true
                case " ": spec.space = true
                case "0": spec.zero = true
                default: break flags
                }
                i += 1
            }
            if i < chars.count, chars[i] == "*" {
                i += 1
                if argIndex < args.count, case .int(let w) = args[argIndex], abs(w) <= 1_000_000 {
                    spec.width = abs(w)
                    if w < 0 { spec.minus = true }
                } else { out += "%!(BADWIDTH)" }
                argIndex += 1
            } else {
                spec.width = readNumber(chars, &i)
            }
            if i < chars.count, chars[i] == "." {
                i += 1
                if i < chars.count, chars[i] == "*" {
                    i += 1
                    if argIndex < args.count, case .int(let p) = args[argIndex], p >= 0, p <= 1_000_000 { spec.precision = p } else { out += "%!(BADPREC)" }
                    argIndex += 1
                } else {
                    spec.precision = readNumber(chars, &i) ?? 0
                }
            }
            guard i < chars.count else { out += "%!(NOVERB)"; break }
            let verb = chars[i]
            i += 1
            if verb == "%" { out += "%"; continue }
            guard argIndex < args.count else { out += "%!\(verb)(MISSING)"; continue }
            out += formatOne(args[argIndex], verb: verb, spec: spec)
            argIndex += 1
        }
        if argIndex < args.count {
            let extra = args[argIndex...].map { "\($0.typeName)=\(formatOne($0, verb: "v", spec: Spec()))" }
            out += "%!(EXTRA " + extra.joined(separator: ", ") + ")"
        }
        return out
    }

    static func readNumber(_ chars: [Unicode.Scalar], _ i: inout Int) -> Int? {
        var value: Int?
        while i < chars.count, let d = Int(String(chars[i])), chars[i].isASCII {
            value = min((value ?? 0) * 10 + d, 1_000_000)
            i += 1
        }
        return value
    }

    static func badVerb(_ arg: Argument, _ verb: Unicode.Scalar) -> String {
        if case .bigInt(let b) = arg { return "%!\(verb)(big.Int=\(b))" }
        return "%!\(verb)(\(arg.typeName)=\(formatOne(arg, verb: "v", spec: Spec())))"
    }

    static func formatOne(_ arg: Argument, verb: Unicode.Scalar, spec: Spec) -> String {
        switch arg {
        case .int(let n): return formatInteger(BigInt(n), verb: verb, spec: spec) ?? badVerb(arg, verb)
        case .bigInt(let b):
            if verb == "c" || verb == "q" || verb == "U" { return badVerb(arg, verb) }
            return formatInteger(b, verb: verb == "s" ? "d" : verb, spec: spec) ?? badVerb(arg, verb)
        case .float(let d): return formatFloat(d, verb: verb, spec: spec) ?? badVerb(arg, verb)
        case .string(let s): return formatString(s, verb: verb, spec: spec) ?? badVerb(arg, verb)
        }
    }

    /// `2e308` for 2×10^308: the digits without trailing zeros, and their count.
    static func exponentText(_ b: BigInt) -> String {
        var digits = String(b)
        var zeros = 0
        while digits.hasSuffix("0") { digits.removeLast(); zeros += 1 }
        return zeros == 0 ? digits : digits + "e" + String(zeros)
    }

    // MARK: Integers

    static func formatInteger(_ n: BigInt, verb: Unicode.Scalar, spec: Spec) -> String? {
        let magnitude = n.magnitude
        var digits: String
        var prefix = ""
        switch verb {
        case "d", "v": digits = String(magnitude)
        case "b": digits = String(magnitude, radix: 2); if spec.sharp { prefix = "0b" }
        case "o": digits = String(magnitude, radix: 8); if spec.sharp { prefix = "0" }
        case "O": digits = String(magnitude, radix: 8); prefix = "0o"
        case "x": digits = String(magnitude, radix: 16); if spec.sharp { prefix = "0x" }
        case "X": digits = String(magnitude, radix: 16).uppercased(); if spec.sharp { prefix = "0X" }
        case "c":
            let scalar = Int(exactly: n).flatMap { UInt32(exactly: $0) }.flatMap(Unicode.Scalar.init) ?? "\u{FFFD}"
            return pad(String(Character(scalar)), spec: spec, numeric: false)
        case "q":
            let scalar = Int(exactly: n).flatMap { UInt32(exactly: $0) }.flatMap(Unicode.Scalar.init) ?? "\u{FFFD}"
            return pad(quoteRune(scalar), spec: spec, numeric: false)
        case "U":
            var hex = String(magnitude, radix: 16).uppercased()
            while hex.count < 4 { hex = "0" + hex }
            return pad("U+" + hex, spec: spec, numeric: false)
        case "e", "E", "f", "F", "g", "G":
            return nil
        default: return nil
        }
        if let p = spec.precision {
            if p == 0 && n == 0 { digits = "" }
            while digits.count < p { digits = "0" + digits }
        }
        let sign = n.sign == .minus && n != 0 ? "-" : (spec.plus ? "+" : (spec.space ? " " : ""))
        let body = prefix + digits
        // Zero padding goes between the sign and the digits, unless a precision is set.
        if spec.zero, !spec.minus, spec.precision == nil, let width = spec.width {
            var padded = body
            while padded.unicodeScalars.count + sign.count < width { padded = "0" + padded }
            return sign + padded
        }
        return pad(sign + body, spec: spec, numeric: true)
    }

    // MARK: Floats

    static func formatFloat(_ d: Double, verb: Unicode.Scalar, spec: Spec) -> String? {
        var text: String
        if d.isNaN { text = "NaN" } else if d.isInfinite { text = d < 0 ? "-Inf" : "+Inf" } else {
            switch verb {
            case "v": text = shortestG(d)
            case "g", "G":
                text = spec.precision.map { String(format: "%.\($0)g", d) } ?? shortestG(d)
                if verb == "G" { text = text.uppercased() }
            case "e", "E":
                text = String(format: "%.\(spec.precision ?? 6)e", d)
                if verb == "E" { text = text.uppercased() }
            case "f", "F": text = String(format: "%.\(spec.precision ?? 6)f", d)
            case "x", "X":
                text = spec.precision.map { String(format: "%.\($0)a", d) } ?? String(format: "%a", d)
                if verb == "X" { text = text.uppercased() }
            default: return nil
            }
        }
        if d.isInfinite, !spec.plus, d > 0 { text = "Inf" }
        if !text.hasPrefix("-") && !text.hasPrefix("+") {
            if spec.plus { text = "+" + text } else if spec.space { text = " " + text }
        }
        if spec.zero, !spec.minus, d.isFinite, let width = spec.width {
            var sign = ""
            var body = Substring(text)
            if let first = body.first, first == "-" || first == "+" || first == " " { sign = String(first); body = body.dropFirst() }
            var padded = String(body)
            while padded.count + sign.count < width { padded = "0" + padded }
            return sign + padded
        }
        return pad(text, spec: spec, numeric: true)
    }

    /// Go's `%v` for a float64: the shortest digits that round-trip, in `%e` form when the
    /// exponent is below -4 or at least 6 (strconv 'g' with precision -1).
    static func shortestG(_ d: Double) -> String {
        if d == 0 { return d.sign == .minus ? "-0" : "0" }
        let (negative, digits, pointPosition) = shortestDigits(d)
        let exponent = pointPosition - 1
        var out = negative ? "-" : ""
        if exponent < -4 || exponent >= 6 {
            out += String(digits.first ?? "0")
            if digits.count > 1 { out += "." + digits.dropFirst() }
            out += exponent < 0 ? "e-" : "e+"
            let e = abs(exponent)
            out += e < 10 ? "0\(e)" : "\(e)"
            return out
        }
        if pointPosition <= 0 {
            return out + "0." + String(repeating: "0", count: -pointPosition) + digits
        }
        if pointPosition >= digits.count {
            return out + digits + String(repeating: "0", count: pointPosition - digits.count)
        }
        let idx = digits.index(digits.startIndex, offsetBy: pointPosition)
        return out + digits[..<idx] + "." + digits[idx...]
    }

    /// The shortest round-trip decimal digits of `d` and where the decimal point falls
    /// (value = 0.digits × 10^pointPosition).
    static func shortestDigits(_ d: Double) -> (negative: Bool, digits: String, pointPosition: Int) {
        var text = "\(abs(d))"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        var intPart = text, fracPart = ""
        if let dot = text.firstIndex(of: ".") {
            intPart = String(text[..<dot]); fracPart = String(text[text.index(after: dot)...])
        }
        var digits = intPart + fracPart
        var point = intPart.count + exponent
        while digits.first == "0", digits.count > 1 { digits.removeFirst(); point -= 1 }
        while digits.last == "0", digits.count > 1 { digits.removeLast() }
        return (d.sign == .minus, digits, point)
    }

    // MARK: Strings

    static func formatString(_ s: String, verb: Unicode.Scalar, spec: Spec) -> String? {
        switch verb {
        case "s", "v":
            var text = s
            if let p = spec.precision { text = String(String.UnicodeScalarView(s.unicodeScalars.prefix(p))) }
            return pad(text, spec: spec, numeric: false)
        case "q":
            return pad(spec.sharp && !s.contains("`") && !s.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" })
                       ? "`" + s + "`" : quote(s, asciiOnly: spec.plus), spec: spec, numeric: false)
        case "x", "X":
            var bytes = Array(s.utf8)
            if let p = spec.precision { bytes = Array(bytes.prefix(p)) }
            let digits = bytes.map { b -> String in
                let h = String(b, radix: 16, uppercase: verb == "X")
                return h.count == 1 ? "0" + h : h
            }
            let prefix = spec.sharp ? (verb == "X" ? "0X" : "0x") : ""
            let text = spec.space ? digits.map { prefix + $0 }.joined(separator: " ") : prefix + digits.joined()
            return pad(text, spec: spec, numeric: false)
        default: return nil
        }
    }

    static func pad(_ text: String, spec: Spec, numeric: Bool) -> String {
        guard let width = spec.width else { return text }
        let count = text.unicodeScalars.count
        guard count < width else { return text }
        let fill = String(repeating: (spec.zero && !spec.minus && !numeric) ? "0" : " ", count: width - count)
        return spec.minus ? text + fill : fill + text
    }

    // MARK: Go quoting and Rego text

    /// Go's `strconv.Quote` (or `QuoteToASCII`).
    static func quote(_ s: String, asciiOnly: Bool = false) -> String {
        var out = "\""
        for c in s.unicodeScalars { out += escape(c, quote: "\"", asciiOnly: asciiOnly) }
        return out + "\""
    }

    static func quoteRune(_ c: Unicode.Scalar) -> String { "'" + escape(c, quote: "'", asciiOnly: false) + "'" }

    static func escape(_ c: Unicode.Scalar, quote: Unicode.Scalar, asciiOnly: Bool) -> String {
        switch c {
        case quote, "\\": return "\\" + String(c)
        case "\u{07}": return "\\a"
        case "\u{08}": return "\\b"
        case "\u{0C}": return "\\f"
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\u{0B}": return "\\v"
        default:
            if c.value < 0x20 || c.value == 0x7F { return String(format: "\\x%02x", c.value) }
            if c.isASCII { return String(c) }
            if !asciiOnly && isPrintable(c) { return String(c) }
            return c.value < 0x10000 ? String(format: "\\u%04x", c.value) : String(format: "\\U%08x", c.value)
        }
    }

    /// Approximates Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols
    /// and the ASCII space.
    static func isPrintable(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator: return false
        case .spaceSeparator: return c == " "
        default: return true
        }
    }

    /// A value's text as OPA's `Term.String()` prints it: strings Go-quoted, sets `{1, 2}`
    /// (empty: `set()`), objects `{"a": 1}`.
    static func regoText(_ value: Value) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n.description
        case .string(let s): return quote(s)
        case .array(let a): return "[" + a.map(regoText).joined(separator: ", ") + "]"
        case .set(let s): return s.isEmpty ? "set()" : "{" + s.elements.map(regoText).joined(separator: ", ") + "}"
        case .object(let o): return "{" + o.map { regoText($0.key) + ": " + regoText($0.value) }.joined(separator: ", ") + "}"
        }
    }
}
