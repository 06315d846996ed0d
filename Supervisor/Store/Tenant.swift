import Foundation

/// One isolated user of the service.
public struct Tenant: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var plan: String
    public var status: TenantStatus
    /// First host uid (and gid) of the tenant's range, used in root mode.
    public var hostIDBase: Int64
    /// How many host ids the range holds.
    public var hostIDCount: Int64
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, name: String, plan: String, status: TenantStatus,
                hostIDBase: Int64, hostIDCount: Int64, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.name = name
        self.plan = plan
        self.status = status
        self.hostIDBase = hostIDBase
        self.hostIDCount = hostIDCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, plan, status
        case hostIDBase = "host_id_base"
        case hostIDCount = "host_id_count"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    public static let idPrefix = "t_"
    public static let defaultPlan = "free"

    /// Names are what operators type: short, lowercase, and never shaped like
    /// an id, so `warden tenant show X` is never ambiguous.
    public static func validate(name: String) throws {
        guard (1...64).contains(name.count) else {
            throw StoreError.invalid("tenant name must be 1 to 64 characters long, got \(name.count)")
        }
        guard name.unicodeScalars.allSatisfy({ allowedNameCharacters.contains($0) }),
              let first = name.unicodeScalars.first,
              CharacterSet.lowercaseLetters.contains(first) || CharacterSet.decimalDigits.contains(first)
        else {
            throw StoreError.invalid(
                "tenant name '\(name)' may use only a-z, 0-9, '-', '_' and '.', and must start with a letter or digit")
        }
        guard !name.hasPrefix(idPrefix) else {
            throw StoreError.invalid("tenant name '\(name)' must not start with '\(idPrefix)', which marks tenant ids")
        }
    }

    public static func validate(plan: String) throws {
        guard (1...32).contains(plan.count),
              plan.unicodeScalars.allSatisfy({ allowedNameCharacters.contains($0) })
        else {
            throw StoreError.invalid("plan '\(plan)' must be 1 to 32 characters of a-z, 0-9, '-', '_' and '.'")
        }
    }

    private static let allowedNameCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789-_.")
}

public enum TenantStatus: String, Codable, Sendable, CaseIterable {
    case active
    case suspended
    case deleted

    /// Deleted is final; everything else may move anywhere, and staying put is allowed
    /// so that repeating a command is harmless.
    public func canChange(to target: TenantStatus) -> Bool {
        switch (self, target) {
        case (.deleted, .deleted): return true
        case (.deleted, _): return false
        default: return true
        }
    }
}
