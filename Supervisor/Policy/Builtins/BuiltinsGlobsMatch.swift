/// `regex.globs_match(a, b)`: whether some string matches both patterns, where a pattern
/// is a restricted regular expression (as in the glob-intersection library OPA uses):
/// literals, `.`, classes `[a-z]` `[^…]`, escapes, and the quantifiers `*`, `+`, `?`.
/// Decided by searching the product of the two patterns' automata.
extension BuiltinRegistry {
    static let globsMatchBuiltins: [Builtin] = [
        Builtin("regex.globs_match", arity: 2) { args, _ in
            let a = try GlobIntersection.tokens(try args.string(0))
            let b = try GlobIntersection.tokens(try args.string(1))
            return Value(GlobIntersection.intersects(a, b))
        },
    ]
}

enum GlobIntersection {
    /// A set of characters: any, or ranges (possibly negated).
    struct CharSet {
        var any = false
        var negated = false
        var ranges: [ClosedRange<UInt32>] = []

        func overlaps(_ other: CharSet) -> Bool {
            if any { return other.any || other.negated || !other.ranges.isEmpty }
            if other.any { return other.overlaps(self) }
            switch (negated, other.negated) {
            case (false, false):
                return ranges.contains { r in other.ranges.contains { $0.overlaps(r) } }
            case (false, true): return CharSet.hasUncovered(ranges, by: other.ranges)
            case (true, false): return CharSet.hasUncovered(other.ranges, by: ranges)
            case (true, true): return true
            }
        }

        /// True when some character of `ranges` lies outside all of `cover`.
        static func hasUncovered(_ ranges: [ClosedRange<UInt32>], by cover: [ClosedRange<UInt32>]) -> Bool {
            let sorted = cover.sorted { $0.lowerBound < $1.lowerBound }
            for r in ranges {
                var next = r.lowerBound
                for c in sorted where c.upperBound >= next {
                    if c.lowerBound > next { return true }
                    if c.upperBound >= r.upperBound { next = r.upperBound &+ 1; break }
                    next = c.upperBound + 1
                }
                if next <= r.upperBound { return true }
            }
            return false
        }
    }

    enum Repeat { case one, optional, star }

    struct Token {
        var set: CharSet
        var repeatKind: Repeat
    }

    static func fail(_ pattern: String, _ position: Int, _ reason: String) -> BuiltinError {
        BuiltinError.evaluation("input:\(pattern), pos:\(position), \(reason): the input provided is invalid")
    }

    static func tokens(_ pattern: String) throws -> [Token] {
        let s = Array(pattern.unicodeScalars)
        var out: [Token] = []
        var i = 0
        while i < s.count {
            let c = s[i]
            switch c {
            case "*", "+", "?":
                guard let last = out.last, last.repeatKind == .one else {
                    throw fail(pattern, i + 1, "quantifier '\(c)' without a preceding character")
                }
                if c == "*" { out[out.count - 1].repeatKind = .star }
                if c == "?" { out[out.count - 1].repeatKind = .optional }
                // `x+` is `x` followed by `x*`.
                if c == "+" { out.append(Token(set: last.set, repeatKind: .star)) }
                i += 1
            case ".":
                out.append(Token(set: CharSet(any: true), repeatKind: .one)); i += 1
            case "]":
                throw fail(pattern, i + 1, "set-close ']' with no preceding '['")
            case "[":
                var set = CharSet()
                var j = i + 1
                if j < s.count, s[j] == "^" { set.negated = true; j += 1 }
                while j < s.count, s[j] != "]" {
                    var lo = s[j]
                    if lo == "\\", j + 1 < s.count { j += 1; lo = s[j] }
                    if j + 2 < s.count, s[j + 1] == "-", s[j + 2] != "]" {
                        var hi = s[j + 2]
                        if hi == "\\", j + 3 < s.count { j += 1; hi = s[j + 2] }
                        guard lo.value <= hi.value else { throw fail(pattern, j + 3, "invalid range '\(lo)-\(hi)'") }
                        set.ranges.append(lo.value...hi.value)
                        j += 3
                    } else {
                        set.ranges.append(lo.value...lo.value)
                        j += 1
                    }
                }
                guard j < s.count else { throw fail(pattern, s.count, "set-open '[' with no closing ']'") }
                out.append(Token(set: set, repeatKind: .one))
                i = j + 1
            case "\\":
                guard i + 1 < s.count else { throw fail(pattern, i + 1, "escape '\\' at the end of the input") }
                out.append(Token(set: CharSet(ranges: [s[i + 1].value...s[i + 1].value]), repeatKind: .one))
                i += 2
            default:
                out.append(Token(set: CharSet(ranges: [c.value...c.value]), repeatKind: .one)); i += 1
            }
        }
        return out
    }

    /// Breadth-first search over pairs of positions, one in each pattern.
    static func intersects(_ a: [Token], _ b: [Token]) -> Bool {
        struct State: Hashable { var i: Int; var j: Int }
        var seen: Set<State> = [State(i: 0, j: 0)]
        var queue = [State(i: 0, j: 0)]
        func push(_ s: State) { if seen.insert(s).inserted { queue.append(s) } }
        var next = 0
        while next < queue.count {
            let s = queue[next]
            next += 1
            if s.i == a.count && s.j == b.count { return true }
            if s.i < a.count, a[s.i].repeatKind != .one { push(State(i: s.i + 1, j: s.j)) }
            if s.j < b.count, b[s.j].repeatKind != .one { push(State(i: s.i, j: s.j + 1)) }
            guard s.i < a.count, s.j < b.count, a[s.i].set.overlaps(b[s.j].set) else { continue }
            let ni = a[s.i].repeatKind == .star ? s.i : s.i + 1
            let nj = b[s.j].repeatKind == .star ? s.j : s.j + 1
            push(State(i: ni, j: nj))
        }
        return false
    }
}
