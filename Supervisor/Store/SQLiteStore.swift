import Foundation
import GRDB

/// The embedded back end: one SQLite file (WAL mode) through GRDB.
public final class SQLiteStore: Store {
    let pool: DatabasePool
    /// Group commit for reservations and settlements.
    let batcher: SQLiteWriteBatcher
    private let hostIDRanges: HostIDRanges

    /// Opens (creating if needed) the database at `path` and brings its schema
    /// up to date. Refuses, without writing, a database migrated by a newer Warden.
    public init(path: String, hostIDRanges: HostIDRanges = .default) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "warden.store"
        // In WAL mode NORMAL syncs at checkpoints, not at each commit: a committed
        // record survives the process being killed (what the ledger promises);
        // only a power loss may take the last commits.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        // DatabasePool always runs SQLite in WAL mode.
        pool = try DatabasePool(path: path, configuration: configuration)
        batcher = SQLiteWriteBatcher(pool: pool)
        self.hostIDRanges = hostIDRanges

        let migrator = SQLiteMigrations.migrator
        let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }
        let unknown = applied.subtracting(migrator.migrations)
        if !unknown.isEmpty {
            try? pool.close()
            throw StoreError.schemaTooNew(database: path, unknownMigrations: unknown.sorted(),
                                          knownMigrations: migrator.migrations)
        }
        try migrator.migrate(pool)
    }

    public var backend: String { "sqlite" }

    public func ping() async throws {
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func close() async throws {
        batcher.stop()
        try pool.close()
    }

    // MARK: Tenants

    public func createTenant(name: String, plan: String) async throws -> Tenant {
        try Tenant.validate(name: name)
        try Tenant.validate(plan: plan)
        let ranges = hostIDRanges
        let now = Self.now()
        return try await pool.write { db in
            if try Self.fetchLiveTenant(db, named: name) != nil {
                throw StoreError.conflict("a tenant named '\(name)' already exists")
            }
            guard try Self.fetchPlan(db, named: plan) != nil else {
                let known = try String.fetchAll(db, sql: "SELECT name FROM plans ORDER BY name").joined(separator: ", ")
                throw StoreError.invalid("unknown plan '\(plan)'; the plans are \(known)")
            }
            let highestEnd = try Int64.fetchOne(db, sql: "SELECT MAX(host_id_base + host_id_count) FROM tenants")
            let tenant = Tenant(id: RandomID.tenantID(), name: name, plan: plan, status: .active,
                                hostIDBase: try ranges.nextBase(afterEnd: highestEnd),
                                hostIDCount: ranges.size, createdAt: now, updatedAt: now)
            try db.execute(
                sql: """
                    INSERT INTO tenants (id, name, plan, status, host_id_base, host_id_count, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [tenant.id, tenant.name, tenant.plan, tenant.status.rawValue,
                            tenant.hostIDBase, tenant.hostIDCount, Self.milliseconds(tenant.createdAt),
                            Self.milliseconds(tenant.updatedAt)])
            return tenant
        }
    }

    public func tenant(id: String) async throws -> Tenant? {
        try await pool.read { db in try Self.fetchTenant(db, id: id) }
    }

    public func tenant(named name: String) async throws -> Tenant? {
        try await pool.read { db in try Self.fetchLiveTenant(db, named: name) }
    }

    public func listTenants(includeDeleted: Bool) async throws -> [Tenant] {
        try await pool.read { db in
            let filter = includeDeleted ? "" : "WHERE status <> 'deleted'"
            return try Row.fetchAll(db, sql: "SELECT * FROM tenants \(filter) ORDER BY created_at, rowid")
                .map(Self.tenant(from:))
        }
    }

    public func setTenantStatus(id: String, to status: TenantStatus) async throws -> Tenant {
        let now = Self.now()
        return try await pool.write { db in
            guard var tenant = try Self.fetchTenant(db, id: id) else {
                throw StoreError.notFound("no tenant with id \(id)")
            }
            guard tenant.status.canChange(to: status) else {
                throw StoreError.conflict("tenant \(id) is \(tenant.status.rawValue) and cannot become \(status.rawValue)")
            }
            if tenant.status == status { return tenant }
            tenant.status = status
            tenant.updatedAt = now
            try db.execute(sql: "UPDATE tenants SET status = ?, updated_at = ? WHERE id = ?",
                           arguments: [status.rawValue, Self.milliseconds(now), id])
            if status == .deleted {
                try db.execute(sql: "UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND revoked_at IS NULL",
                               arguments: [Self.milliseconds(now), id])
            }
            return tenant
        }
    }

    // MARK: Keys

    public func issueKey(tenantID: String) async throws -> IssuedKey {
        let token = APIKeyToken.generate()
        let now = Self.now()
        return try await pool.write { db in
            guard let tenant = try Self.fetchTenant(db, id: tenantID) else {
                throw StoreError.notFound("no tenant with id \(tenantID)")
            }
            guard tenant.status != .deleted else {
                throw StoreError.conflict("tenant \(tenantID) is deleted; it cannot get new keys")
            }
            let key = APIKey(id: token.keyID, tenantID: tenantID, prefix: token.displayPrefix, createdAt: now)
            try db.execute(
                sql: "INSERT INTO api_keys (id, tenant_id, prefix, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [key.id, key.tenantID, key.prefix, Data(token.hash), Self.milliseconds(key.createdAt)])
            return IssuedKey(key: key, token: token.token)
        }
    }

    public func apiKey(id: String) async throws -> APIKey? {
        try await pool.read { db in try Self.fetchKeyRow(db, id: id).map(Self.apiKey(from:)) }
    }

    public func listKeys(tenantID: String?) async throws -> [APIKey] {
        try await pool.read { db in
            let rows: [Row]
            if let tenantID {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at, rowid",
                                        arguments: [tenantID])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM api_keys ORDER BY created_at, rowid")
            }
            return try rows.map(Self.apiKey(from:))
        }
    }

    public func revokeKey(id: String) async throws -> APIKey {
        let now = Self.now()
        return try await pool.write { db in
            guard let row = try Self.fetchKeyRow(db, id: id) else {
                throw StoreError.notFound("no API key with id \(id)")
            }
            var key = try Self.apiKey(from: row)
            if key.revokedAt == nil {
                key.revokedAt = now
                try db.execute(sql: "UPDATE api_keys SET revoked_at = ? WHERE id = ?",
                               arguments: [Self.milliseconds(now), id])
            }
            return key
        }
    }

    public func authenticate(token: String) async throws -> Authentication? {
        guard let parsed = APIKeyToken(parsing: token) else { return nil }
        let presentedHash = parsed.hash
        let found: Authentication? = try await pool.read { db in
            guard let row = try Self.fetchKeyRow(db, id: parsed.keyID) else { return nil }
            let storedHash: Data = row["secret_hash"]
            guard APIKeyToken.constantTimeEquals(Array(storedHash), presentedHash) else { return nil }
            let key = try Self.apiKey(from: row)
            guard key.revokedAt == nil, let tenant = try Self.fetchTenant(db, id: key.tenantID) else { return nil }
            return Authentication(key: key, tenant: tenant)
        }
        return try await markingUsed(found) { keyID, now in
            try await self.pool.write { db in
                try db.execute(sql: "UPDATE api_keys SET last_used_at = ? WHERE id = ?", arguments: [now, keyID])
            }
        }
    }

    // MARK: Rows
    // The lookups every call makes (its key, its tenant) keep their prepared statements.

    static func fetchTenant(_ db: Database, id: String) throws -> Tenant? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM tenants WHERE id = ?"), arguments: [id]).map(tenant(from:))
    }

    private static func fetchLiveTenant(_ db: Database, named name: String) throws -> Tenant? {
        try Row.fetchOne(db, sql: "SELECT * FROM tenants WHERE name = ? AND status <> 'deleted'", arguments: [name])
            .map(tenant(from:))
    }

    private static func fetchKeyRow(_ db: Database, id: String) throws -> Row? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM api_keys WHERE id = ?"), arguments: [id])
    }

    private static func tenant(from row: Row) throws -> Tenant {
        let rawStatus: String = row["status"]
        guard let status = TenantStatus(rawValue: rawStatus) else {
            throw StoreError.invalid("tenant \(row["id"] as String) has an unknown status '\(rawStatus)' in the database")
        }
        return Tenant(id: row["id"], name: row["name"], plan: row["plan"], status: status,
                      hostIDBase: row["host_id_base"], hostIDCount: row["host_id_count"],
                      createdAt: date(row["created_at"]), updatedAt: date(row["updated_at"]))
    }

    private static func apiKey(from row: Row) throws -> APIKey {
        APIKey(id: row["id"], tenantID: row["tenant_id"], prefix: row["prefix"], createdAt: date(row["created_at"]),
               revokedAt: (row["revoked_at"] as Int64?).map(date), lastUsedAt: (row["last_used_at"] as Int64?).map(date))
    }
}
