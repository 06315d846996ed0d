import BigInt

/// `semver.is_valid` and `semver.compare` (Semantic Versioning 2.0.0 precedence).
extension BuiltinRegistry {
    static let semverBuiltins: [Builtin] = [
        Builtin("semver.is_valid", arity: 1) { args, _ in
            guard case .string(let s) = args[0] else { return false }
            return Value(SemanticVersion(s) != nil)
        },
        Builtin("semver.compare", arity: 2) { args, _ in
            let a = try semverOperand(args, 0), b = try semverOperand(args, 1)
            return Value(SemanticVersion.compare(a, b))
        },
    ]

    static func semverOperand(_ args: [Value], _ i: Int) throws -> SemanticVersion {
        let s = try args.string(i)
        guard let v = SemanticVersion(s) else {
            throw BuiltinError.evaluation("operand \(i + 1): string \(GoFormatter.quote(s)) is not a valid SemVer")
        }
        return v
    }
}

/// `MAJOR.MINOR.PATCH[-prerelease][+build]`, numbers without leading zeros.
struct SemanticVersion {
    var core: [BigInt]
    var prerelease: [Substring]

    init?(_ text: String) {
        var rest = Substring(text)
        if let plus = rest.firstIndex(of: "+") {
            let build = rest[rest.index(after: plus)...]
            guard SemanticVersion.validIdentifiers(build, numeric: false) else { return nil }
            rest = rest[..<plus]
        }
        prerelease = []
        if let dash = rest.firstIndex(of: "-") {
            let pre = rest[rest.index(after: dash)...]
            guard SemanticVersion.validIdentifiers(pre, numeric: true) else { return nil }
            prerelease = pre.split(separator: ".", omittingEmptySubsequences: false)
            rest = rest[..<dash]
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var numbers: [BigInt] = []
        for p in parts {
            guard SemanticVersion.isNumber(p), let n = BigInt(String(p), radix: 10) else { return nil }
            numbers.append(n)
        }
        core = numbers
    }

    static func isNumber(_ s: Substring) -> Bool {
        !s.isEmpty && s.allSatisfy { $0.isASCII && $0.isNumber } && (s == "0" || !s.hasPrefix("0"))
    }

    /// Dot-separated, non-empty `[0-9A-Za-z-]` identifiers; numeric ones (in a pre-release)
    /// have no leading zeros.
    static func validIdentifiers(_ s: Substring, numeric: Bool) -> Bool {
        s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { id in
            guard !id.isEmpty, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { return false }
            if numeric, id.allSatisfy({ $0.isNumber }) { return isNumber(id) }
            return true
        }
    }

    static func compare(_ a: SemanticVersion, _ b: SemanticVersion) -> Int {
        for (x, y) in zip(a.core, b.core) where x != y { return x < y ? -1 : 1 }
        // A pre-release sorts before the release.
        switch (a.prerelease.isEmpty, b.prerelease.isEmpty) {
        case (true, true): return 0
        case (true, false): return 1
        case (false, true): return -1
        default: break
        }
        for (x, y) in zip(a.prerelease, b.prerelease) where x != y {
            let xn = x.allSatisfy(\.isNumber) ? BigInt(String(x), radix: 10) : nil
            let yn = y.allSatisfy(\.isNumber) ? BigInt(String(y), radix: 10) : nil
            switch (xn, yn) {
            case let (p?, q?): return p < q ? -1 : 1
            case (.some, nil): return -1
            case (nil, .some): return 1
            default: return Value.compareStrings(String(x), String(y))
            }
        }
        return a.prerelease.count == b.prerelease.count ? 0 : (a.prerelease.count < b.prerelease.count ? -1 : 1)
    }
}
