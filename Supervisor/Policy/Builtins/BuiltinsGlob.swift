import Foundation

/// `glob.match` and `glob.quote_meta` with the syntax of gobwas/glob (which OPA uses):
/// `*` any run of non-delimiter characters, `**` any run at all, `?` one non-delimiter
/// character, `[abc]` `[a-z]` `[!abc]` `[!a-z]` classes, `{a,b*}` alternatives (nestable),
/// `\` escapes. A glob is compiled to an anchored ICU pattern and cached.
extension BuiltinRegistry {
    static let globBuiltins: [Builtin] = [
        Builtin("glob.match", arity: 3) { args, _ in
            let pattern = try args.string(0)
            var delimiters: [Unicode.Scalar]
            switch args[1] {
            case .null: delimiters = []
            case .array(let items):
                delimiters = try items.map { item in
                    guard case .string(let s) = item else { throw BuiltinError.operandElement(2, of: args[1], got: item, expected: "string") }
                    guard s.unicodeScalars.count == 1, let r = s.unicodeScalars.first else {
                        throw BuiltinError.operandElement(2, of: args[1], got: item, expected: "rune")
                    }
                    return r
                }
                if delimiters.isEmpty { delimiters = ["."] }
            default: throw BuiltinError.operand(2, expectedOneOf: ["array", "null"], got: args[1])
            }
            let text = try args.string(2)
            let glob = try GlobPattern.cached(pattern, delimiters: delimiters)
            return Value(glob.regex.firstMatch(in: text, options: [], range: NSRange(location: 0, length: (text as NSString).length)) != nil)
        },
        Builtin("glob.quote_meta", arity: 1) { args, _ in
            var out = ""
            for c in try args.string(0).unicodeScalars {
                if GlobPattern.special.contains(c) { out += "\\" }
                out.unicodeScalars.append(c)
            }
            return .string(out)
        },
    ]
}

final class GlobPattern: @unchecked Sendable {
    // NSRegularExpression is immutable and safe to share between threads.
    let regex: NSRegularExpression

    init(regex: NSRegularExpression) { self.regex = regex }

    static let special: Set<Unicode.Scalar> = ["*", "?", "\\", "[", "]", "{", "}"]

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: GlobPattern] = [:]

    static func cached(_ pattern: String, delimiters: [Unicode.Scalar]) throws -> GlobPattern {
        let key = String(String.UnicodeScalarView(delimiters)) + "\u{0}" + pattern
        lock.lock()
        let hit = cache[key]
        lock.unlock()
        if let hit { return hit }
        var parser = GlobParser(Array(pattern.unicodeScalars), delimiters: delimiters)
        let body = try parser.parseSequence(topLevel: true)
        guard let regex = try? NSRegularExpression(pattern: "\\A(?:" + body + ")\\z", options: [.dotMatchesLineSeparators]) else {
            throw BuiltinError.evaluation("invalid glob pattern: \(pattern)")
        }
        let compiled = GlobPattern(regex: regex)
        lock.lock()
        if cache.count > 2_000 { cache.removeAll() }
        cache[key] = compiled
        lock.unlock()
        return compiled
    }
}

/// Turns glob syntax into ICU regex syntax; every literal is written as `\x{…}`.
struct GlobParser {
    let p: [Unicode.Scalar]
    let notDelimiter: String
    var i = 0

    init(_ p: [Unicode.Scalar], delimiters: [Unicode.Scalar]) {
        self.p = p
        notDelimiter = delimiters.isEmpty ? "." : "[^" + delimiters.map(GlobParser.literal).joined() + "]"
    }

    static func literal(_ c: Unicode.Scalar) -> String { "\\x{" + String(c.value, radix: 16) + "}" }

    func fail(_ reason: String) -> BuiltinError { BuiltinError.evaluation("glob: \(reason)") }

    /// A run of glob items up to the end, or (inside braces) up to `,` or `}`.
    mutating func parseSequence(topLevel: Bool) throws -> String {
        var out = ""
        while i < p.count {
            let c = p[i]
            switch c {
            case "*":
                if i + 1 < p.count, p[i + 1] == "*" {
                    out += ".*"; i += 2
                } else {
                    out += notDelimiter + "*"; i += 1
                }
            case "?": out += notDelimiter; i += 1
            case "[": out += try parseClass()
            case "{":
                i += 1
                var alternatives: [String] = []
                while true {
                    alternatives.append(try parseSequence(topLevel: false))
                    guard i < p.count else { throw fail("unexpected end of input") }
                    let sep = p[i]
                    i += 1
                    if sep == "}" { break }
                }
                out += "(?:" + alternatives.joined(separator: "|") + ")"
            case ",", "}":
                // Separators only inside braces; elsewhere they are literal text.
                if !topLevel { return out }
                out += GlobParser.literal(c); i += 1
            case "\\":
                guard i + 1 < p.count else { throw fail("unexpected end of input") }
                out += GlobParser.literal(p[i + 1]); i += 2
            default:
                out += GlobParser.literal(c); i += 1
            }
        }
        return out
    }

    /// `[abc]`, `[a-z]`, `[!abc]`, `[!a-z]`.
    mutating func parseClass() throws -> String {
        i += 1
        var negated = false
        if i < p.count, p[i] == "!" { negated = true; i += 1 }
        var members = ""
        var count = 0
        while i < p.count, p[i] != "]" {
            var c = p[i]
            if c == "\\", i + 1 < p.count { i += 1; c = p[i] }
            if i + 2 < p.count, p[i + 1] == "-", p[i + 2] != "]" {
                let hi = p[i + 2]
                guard c.value <= hi.value else { throw fail("hi character should be greater than lo character") }
                members += GlobParser.literal(c) + "-" + GlobParser.literal(hi)
                i += 3
            } else {
                members += GlobParser.literal(c)
                i += 1
            }
            count += 1
        }
        guard i < p.count else { throw fail("unexpected end of input") }
        i += 1
        guard count > 0 else { throw fail("empty character class") }
        return "[" + (negated ? "^" : "") + members + "]"
    }
}
