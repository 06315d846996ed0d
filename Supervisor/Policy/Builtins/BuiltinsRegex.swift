import Foundation

/// Regular-expression builtins. OPA uses Go's RE2 syntax; patterns are translated to ICU
/// (`NSRegularExpression`) where the two differ:
/// - `\d \w \s` (and negations) are ASCII-only, as in RE2;
/// - `$` means end of text (`\z`) unless the pattern turns on multi-line mode;
/// - `[` inside a class and unbalanced `{`/`}` are literals;
/// - `(?P<name>…)` becomes `(?<name>…)`;
/// - what RE2 rejects is rejected: lookaround, atomic groups, backreferences, possessive
///   quantifiers, `\Z`.
/// Known gaps: `\b` uses Unicode word characters, `(?U)` (ungreedy) is not supported, and
/// ICU backtracks, so a pathological pattern can take exponential time where RE2 is linear.
extension BuiltinRegistry {
    static let regexBuiltins: [Builtin] = [
        Builtin("regex.match", arity: 2) { args, _ in
            let re = try CompiledRegex.cached(try args.string(0))
            return Value(re.matches(try args.string(1)))
        },
        Builtin("re_match", arity: 2) { args, _ in
            let re = try CompiledRegex.cached(try args.string(0))
            return Value(re.matches(try args.string(1)))
        },
        Builtin("regex.is_valid", arity: 1) { args, _ in
            guard case .string(let pattern) = args[0] else { return false }
            return Value((try? CompiledRegex.cached(pattern)) != nil)
        },
        Builtin("regex.find_n", arity: 3) { args, _ in
            let re = try CompiledRegex.cached(try args.string(0))
            let text = try args.string(1)
            let n = try args.integer(2)
            let ns = text as NSString
            return .array(re.allMatches(text, limit: n).map { .string(ns.substring(with: $0.range)) })
        },
        Builtin("regex.find_all_string_submatch_n", arity: 3) { args, _ in
            let re = try CompiledRegex.cached(try args.string(0))
            let text = try args.string(1)
            let n = try args.integer(2)
            let ns = text as NSString
            return .array(re.allMatches(text, limit: n).map { match in
                .array((0..<match.numberOfRanges).map { g in
                    let r = match.range(at: g)
                    return .string(r.location == NSNotFound ? "" : ns.substring(with: r))
                })
            })
        },
        Builtin("regex.split", arity: 2) { args, _ in
            let re = try CompiledRegex.cached(try args.string(0))
            let text = try args.string(1)
            return .array(re.split(text).map(Value.string))
        },
        Builtin("regex.replace", arity: 3) { args, _ in
            let text = try args.string(0)
            let re = try CompiledRegex.cached(try args.string(1))
            let template = try args.string(2)
            return .string(re.replaceAll(text, template: template))
        },
        Builtin("regex.template_match", arity: 4) { args, _ in
            let template = try args.string(0)
            let text = try args.string(1)
            let start = try args.string(2), end = try args.string(3)
            guard start.utf8.count == 1, let open = start.unicodeScalars.first else {
                throw BuiltinError.evaluation("start delimiter has to be exactly one character long but is \(start.utf8.count) long")
            }
            guard end.utf8.count == 1, let close = end.unicodeScalars.first else {
                throw BuiltinError.evaluation("end delimiter has to be exactly one character long but is \(end.utf8.count) long")
            }
            let pattern = try CompiledRegex.templatePattern(template, open: open, close: close)
            return Value(try CompiledRegex.cached(pattern).matches(text))
        },
    ]
}

/// A compiled pattern with the names of its capture groups (index 1 first).
final class CompiledRegex: @unchecked Sendable {
    // NSRegularExpression is immutable and safe to use from several threads.
    let regex: NSRegularExpression
    let groupNames: [String?]

    init(regex: NSRegularExpression, groupNames: [String?]) {
        self.regex = regex
        self.groupNames = groupNames
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: CompiledRegex] = [:]

    /// The compiled form of an RE2 pattern, cached; a bad pattern is an `eval_builtin_error`
    /// worded like Go's (`error parsing regexp: …`).
    static func cached(_ pattern: String) throws -> CompiledRegex {
        lock.lock()
        let hit = cache[pattern]
        lock.unlock()
        if let hit { return hit }
        let translated = try RE2Translator.translate(pattern)
        let regex: NSRegularExpression
        do {
            // ICU rejects an empty pattern; RE2 matches the empty string everywhere.
            regex = try NSRegularExpression(pattern: translated.pattern.isEmpty ? "(?:)" : translated.pattern, options: [])
        } catch {
            throw BuiltinError.evaluation("error parsing regexp: invalid regular expression: `\(pattern)`")
        }
        let compiled = CompiledRegex(regex: regex, groupNames: translated.groupNames)
        lock.lock()
        if cache.count > 2_000 { cache.removeAll() }
        cache[pattern] = compiled
        lock.unlock()
        return compiled
    }

    func matches(_ text: String) -> Bool {
        regex.firstMatch(in: text, options: [], range: NSRange(location: 0, length: (text as NSString).length)) != nil
    }

    /// Go's `FindAll…(s, n)`: at most `n` matches (all when negative), skipping an empty
    /// match that directly follows the previous match.
    func allMatches(_ text: String, limit: Int) -> [NSTextCheckingResult] {
        if limit == 0 { return [] }
        var out: [NSTextCheckingResult] = []
        var previousEnd = -1
        let all = regex.matches(in: text, options: [], range: NSRange(location: 0, length: (text as NSString).length))
        for m in all {
            let r = m.range
            if r.length == 0 && r.location == previousEnd { continue }
            previousEnd = r.location + r.length
            out.append(m)
            if limit > 0 && out.count == limit { break }
        }
        return out
    }

    /// Go's `Regexp.Split(s, -1)`.
    func split(_ text: String) -> [String] {
        let ns = text as NSString
        if regex.pattern != "(?:)" && ns.length == 0 { return [""] }
        var parts: [String] = []
        var begin = 0, end = 0
        for m in allMatches(text, limit: -1) {
            end = m.range.location
            if m.range.location + m.range.length != 0 {
                parts.append(ns.substring(with: NSRange(location: begin, length: end - begin)))
            }
            begin = m.range.location + m.range.length
        }
        if end != ns.length {
            parts.append(ns.substring(from: begin))
        }
        return parts
    }

    /// Go's `ReplaceAllString`: `$1`, `${1}`, `$name`, `${name}` expand; `$$` is a dollar.
    func replaceAll(_ text: String, template: String) -> String {
        let ns = text as NSString
        var out = ""
        var last = 0
        for m in allMatches(text, limit: -1) {
            out += ns.substring(with: NSRange(location: last, length: m.range.location - last))
            out += expand(template, match: m, in: ns)
            last = m.range.location + m.range.length
        }
        out += ns.substring(from: last)
        return out
    }

    private func expand(_ template: String, match: NSTextCheckingResult, in ns: NSString) -> String {
        let t = Array(template.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        func isNameChar(_ c: Unicode.Scalar) -> Bool {
            c == "_" || (c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c)))
        }
        while i < t.count {
            guard t[i] == "$", i + 1 < t.count else { out.append(t[i]); i += 1; continue }
            if t[i + 1] == "$" { out.append("$"); i += 2; continue }
            var name = ""
            var next = i + 1
            if t[next] == "{" {
                var j = next + 1
                while j < t.count, isNameChar(t[j]) { j += 1 }
                if j < t.count, t[j] == "}", j > next + 1 {
                    name = String(String.UnicodeScalarView(t[(next + 1)..<j])); next = j + 1
                }
            } else {
                var j = next
                while j < t.count, isNameChar(t[j]) { j += 1 }
                if j > next { name = String(String.UnicodeScalarView(t[next..<j])); next = j }
            }
            if name.isEmpty { out.append("$"); i += 1; continue }
            out.append(contentsOf: group(name, match: match, in: ns).unicodeScalars)
            i = next
        }
        return String(out)
    }

    private func group(_ name: String, match: NSTextCheckingResult, in ns: NSString) -> String {
        var index: Int?
        if let n = Int(name) { index = n } else if let k = groupNames.firstIndex(of: name) { index = k + 1 }
        guard let g = index, g < match.numberOfRanges else { return "" }
        let r = match.range(at: g)
        return r.location == NSNotFound ? "" : ns.substring(with: r)
    }

    /// A template like `urn:foo:{.*}` as an anchored RE2 pattern: text outside the
    /// delimiters is literal, text inside is a pattern (delimiters may nest).
    static func templatePattern(_ template: String, open: Unicode.Scalar, close: Unicode.Scalar) throws -> String {
        var out = "^"
        var literal = String.UnicodeScalarView()
        var inner = String.UnicodeScalarView()
        var depth = 0
        for c in template.unicodeScalars {
            if depth == 0 {
                if c == open {
                    out += NSRegularExpression.escapedPattern(for: String(literal)); literal = .init()
                    depth = 1
                } else { literal.append(c) }
                continue
            }
            if c == open { depth += 1 } else if c == close {
                depth -= 1
                if depth == 0 { out += "(?:" + String(inner) + ")"; inner = .init(); continue }
            }
            inner.append(c)
        }
        guard depth == 0 else { throw BuiltinError.evaluation("unbalanced braces in template: \(template)") }
        out += NSRegularExpression.escapedPattern(for: String(literal))
        return out + "$"
    }
}

/// Rewrites an RE2 pattern into an equivalent ICU pattern, or rejects what RE2 rejects.
enum RE2Translator {
    struct Result {
        var pattern: String
        var groupNames: [String?]
    }

    static func fail(_ what: String, _ fragment: String) -> BuiltinError {
        BuiltinError.evaluation("error parsing regexp: \(what): `\(fragment)`")
    }

    static func translate(_ pattern: String) throws -> Result {
        let p = Array(pattern.unicodeScalars)
        var out = ""
        var names: [String?] = []
        var inClass = false
        var classStart = 0
        // RE2's `$` is end of text unless a (?m) flag turns on multi-line matching.
        let multiline = pattern.range(of: #"\(\?[a-zA-Z]*m[a-zA-Z\-]*[:)]"#, options: .regularExpression) != nil
        var i = 0
        func text(_ from: Int, _ to: Int) -> String { String(String.UnicodeScalarView(p[from..<min(to, p.count)])) }
        while i < p.count {
            let c = p[i]
            if c == "\\" {
                guard i + 1 < p.count else { throw fail("trailing backslash at end of expression", "") }
                let e = p[i + 1]
                switch e {
                case "d": out += inClass ? "0-9" : "[0-9]"
                case "D": out += "[^0-9]"
                case "w": out += inClass ? "0-9A-Za-z_" : "[0-9A-Za-z_]"
                case "W": out += "[^0-9A-Za-z_]"
                case "s": out += inClass ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]"
                case "S": out += "[^\\t\\n\\f\\r ]"
                case "Z", "1"..."9", "k", "g", "G", "X", "R", "h", "H", "K", "N", "V", "e":
                    throw fail("invalid escape sequence", "\\" + String(e))
                default: out += "\\" + String(e)
                }
                i += 2
                continue
            }
            if inClass {
                switch c {
                case "]" where i > classStart:
                    inClass = false; out += "]"
                case "[":
                    if i + 1 < p.count, p[i + 1] == ":", let close = findPosixClassEnd(p, from: i + 2) {
                        out += text(i, close + 2); i = close + 2; continue
                    }
                    out += "\\["
                case "&", "{", "}", "$": out += "\\" + String(c)
                default: out.unicodeScalars.append(c)
                }
                i += 1
                continue
            }
            switch c {
            case "[":
                inClass = true
                out += "["
                i += 1
                if i < p.count, p[i] == "^" { out += "^"; i += 1 }
                classStart = i
                // A leading `]` is a literal member.
                if i < p.count, p[i] == "]" { out += "\\]"; i += 1 }
                continue
            case "(":
                if i + 1 < p.count, p[i + 1] == "?" {
                    let rest = text(i, i + 4)
                    if rest.hasPrefix("(?P<") || (rest.hasPrefix("(?<") && !rest.hasPrefix("(?<=") && !rest.hasPrefix("(?<!")) {
                        let nameStart = rest.hasPrefix("(?P<") ? i + 4 : i + 3
                        guard let close = p[nameStart...].firstIndex(of: ">") else { throw fail("invalid named capture", text(i, p.count)) }
                        let name = text(nameStart, close)
                        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0 == "_" || $0.properties.isAlphabetic || $0.properties.numericType != nil }) else {
                            throw fail("invalid named capture", text(i, close + 1))
                        }
                        names.append(name)
                        out += "(?<" + name + ">"
                        i = close + 1
                        continue
                    }
                    if rest.hasPrefix("(?=") || rest.hasPrefix("(?!") || rest.hasPrefix("(?<") || rest.hasPrefix("(?>") || rest.hasPrefix("(?#") {
                        throw fail("invalid or unsupported Perl syntax", text(i, i + 3))
                    }
                    // Flag groups: RE2 knows i, m, s and U.
                    var j = i + 2
                    while j < p.count, p[j] != ")", p[j] != ":" {
                        guard "imsU-".unicodeScalars.contains(p[j]) else { throw fail("invalid or unsupported Perl syntax", text(i, j + 1)) }
                        j += 1
                    }
                    guard j < p.count else { throw fail("missing closing )", pattern) }
                    out += text(i, j + 1)
                    i = j + 1
                    continue
                }
                names.append(nil)
                out += "("
            case "$":
                out += multiline ? "$" : "\\z"
            case "{":
                if let close = repetitionEnd(p, from: i) {
                    let counts = text(i + 1, close).split(separator: ",").compactMap { Int($0) }
                    guard counts.allSatisfy({ $0 <= 1000 }) else { throw fail("invalid repeat count", text(i, close + 1)) }
                    out += text(i, close + 1)
                    i = close + 1
                    if i < p.count, p[i] == "+" { throw fail("invalid nested repetition operator", text(i - 1, i + 1)) }
                    continue
                }
                out += "\\{"
            case "}": out += "\\}"
            case "*", "+", "?":
                out.unicodeScalars.append(c)
                if i + 1 < p.count, p[i + 1] == "+" || (p[i + 1] == "*" ) {
                    throw fail("invalid nested repetition operator", text(i, i + 2))
                }
            default:
                out.unicodeScalars.append(c)
            }
            i += 1
        }
        if inClass { throw fail("missing closing ]", text(classStart > 0 ? classStart - 1 : 0, p.count)) }
        return Result(pattern: out, groupNames: names)
    }

    /// The index of the `}` closing a valid `{n}`, `{n,}` or `{n,m}` starting at `from`.
    static func repetitionEnd(_ p: [Unicode.Scalar], from: Int) -> Int? {
        var i = from + 1
        var digits = 0
        while i < p.count, ("0"..."9").contains(p[i]) { i += 1; digits += 1 }
        guard digits > 0, i < p.count else { return nil }
        if p[i] == "}" { return i }
        guard p[i] == "," else { return nil }
        i += 1
        while i < p.count, ("0"..."9").contains(p[i]) { i += 1 }
        return i < p.count && p[i] == "}" ? i : nil
    }

    /// The index of `:` in `:]` that ends a POSIX class name like `[:alpha:]`.
    static func findPosixClassEnd(_ p: [Unicode.Scalar], from: Int) -> Int? {
        var i = from
        while i + 1 < p.count {
            if p[i] == ":" && p[i + 1] == "]" { return i }
            guard p[i].properties.isAlphabetic || p[i] == "^" else { return nil }
            i += 1
        }
        return nil
    }
}
