import Foundation

/// A tenant's API key as the store keeps it: never the secret itself.
public struct APIKey: Codable, Sendable, Equatable {
    public var id: String
    public var tenantID: String
    /// The start of the token, enough for an operator to recognise it.
    public var prefix: String
    public var createdAt: Date
    public var revokedAt: Date?
    public var lastUsedAt: Date?

    public init(id: String, tenantID: String, prefix: String, createdAt: Date,
                revokedAt: Date? = nil, lastUsedAt: Date? = nil) {
        self.id = id
        self.tenantID = tenantID
        self.prefix = prefix
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
    }

    public var isRevoked: Bool { revokedAt != nil }

    enum CodingKeys: String, CodingKey {
        case id, prefix
        case tenantID = "tenant_id"
        case createdAt = "created_at"
        case revokedAt = "revoked_at"
        case lastUsedAt = "last_used_at"
    }
}

/// A freshly issued key together with its token, which is shown once.
public struct IssuedKey: Codable, Sendable, Equatable {
    public var key: APIKey
    public var token: String

    public init(key: APIKey, token: String) {
        self.key = key
        self.token = token
    }
}
