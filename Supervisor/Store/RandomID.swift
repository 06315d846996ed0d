/// Random identifiers and secrets drawn from the system's CSPRNG
/// (`SystemRandomNumberGenerator` reads getrandom(2) on Linux).
public enum RandomID {
    /// Lowercase letters and digits: safe in URLs, paths and shell words, and
    /// free of '_' so it can sit between the separators of a key token.
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")

    public static func string(length: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    public static func tenantID() -> String { Tenant.idPrefix + string(length: 16) }
    public static func keyID() -> String { APIKeyToken.idPrefix + string(length: 16) }
}
