/// Random identifiers and secrets drawn from the system's CSPRNG
/// (`SystemRandomNumberGenerator` reads getrandom(2) on Linux).
public enum RandomID {
    /// Lowercase letters and digits: safe in URLs, paths and shell words, and
    /// free of '_' so it can sit between the separators of a key token.
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")

    public static func string(length: Int) -> String {
        // One draw of 64 random bits gives eight characters (a byte each,
        // unbiased: bytes past the last whole multiple of 36 are skipped):
        // one getrandom(2) call per eight characters, not per character.
        var generator = SystemRandomNumberGenerator()
        let limit = UInt8(256 - 256 % alphabet.count)
        var result: [Character] = []
        result.reserveCapacity(length)
        while result.count < length {
            var bits = generator.next()
            for _ in 0..<8 where result.count < length {
                let byte = UInt8(truncatingIfNeeded: bits)
                bits >>= 8
                if byte < limit { result.append(alphabet[Int(byte) % alphabet.count]) }
            }
        }
        return String(result)
    }

    public static func tenantID() -> String { Tenant.idPrefix + string(length: 16) }
    public static func keyID() -> String { APIKeyToken.idPrefix + string(length: 16) }
}
