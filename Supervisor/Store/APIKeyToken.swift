import Crypto
import Foundation

/// The bearer token of an API key: `wdn_k_<16 chars>_<40 chars>`.
///
/// The key id inside the token lets the store find the row by primary key;
/// the whole token's SHA-256 is then compared in constant time, so neither a
/// timing difference nor a database dump gives the secret away.
public struct APIKeyToken: Sendable, Equatable {
    public static let scheme = "wdn"
    public static let idPrefix = "k_"
    static let idBodyLength = 16
    static let secretLength = 40  // 36^40 ≈ 2^206
    /// Characters of the secret kept in the displayed prefix.
    static let displayedSecretCharacters = 4

    public let keyID: String
    public let secret: String

    public var token: String { "\(Self.scheme)_\(keyID)_\(secret)" }

    /// What operators see in key listings.
    public var displayPrefix: String {
        "\(Self.scheme)_\(keyID)_\(secret.prefix(Self.displayedSecretCharacters))…"
    }

    public static func generate(keyID: String = RandomID.keyID()) -> APIKeyToken {
        APIKeyToken(keyID: keyID, secret: RandomID.string(length: secretLength))
    }

    init(keyID: String, secret: String) {
        self.keyID = keyID
        self.secret = secret
    }

    /// Splits a presented token; nil for anything that is not exactly our shape.
    public init?(parsing token: String) {
        let parts = token.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == Self.scheme, parts[1] == "k",
              parts[2].count == Self.idBodyLength, parts[3].count == Self.secretLength,
              parts[2].allSatisfy(Self.isTokenCharacter), parts[3].allSatisfy(Self.isTokenCharacter)
        else { return nil }
        self.keyID = Self.idPrefix + parts[2]
        self.secret = String(parts[3])
    }

    /// SHA-256 of the whole token, as stored.
    public var hash: [UInt8] { Self.hash(of: token) }

    public static func hash(of token: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(token.utf8)))
    }

    /// Compares two hashes without an early exit, so the time taken does not
    /// tell how many leading bytes matched.
    public static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices {
            difference |= lhs[index] ^ rhs[index]
        }
        return difference == 0
    }

    private static func isTokenCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLowercase || character.isNumber)
    }
}
