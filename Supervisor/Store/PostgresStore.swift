import Foundation

/// The shared back end: PostgreSQL through the system libpq, so several
/// Warden nodes can keep one system of record. Same semantics as
/// `SQLiteStore`; statements run on the pool's own threads.
public final class PostgresStore: Store {
    let pool: PostgresPool
    private let hostIDRanges: HostIDRanges
    /// Where the store is, for `warden doctor` and logs (no password).
    public let summary: String

    /// Connects, brings the schema up to date and keeps up to `connections`
    /// connections. `connection` goes to libpq as is: a `postgresql://` URI,
    /// a `host=… dbname=…` string, or "" for the PG* environment variables and
    /// service file alone; TLS is whatever `sslmode` and friends say.
    /// `parameters` are libpq keywords that override the string's.
    /// Refuses, without writing, a schema migrated by a newer Warden.
    public init(connection: String, parameters: [String: String] = [:], hostIDRanges: HostIDRanges = .default,
                connections: Int = 8) throws {
        let first = try PostgresConnection(connection, parameters: parameters)
        try PostgresMigrations.migrate(first)
        summary = first.summary
        self.hostIDRanges = hostIDRanges
        pool = PostgresPool(size: connections) { try PostgresConnection(connection, parameters: parameters) }
    }

    /// `init` on a thread of its own, for callers on the cooperative pool.
    public static func open(connection: String, parameters: [String: String] = [:], hostIDRanges: HostIDRanges = .default,
                            connections: Int = 8) async throws -> PostgresStore {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    try PostgresStore(connection: connection, parameters: parameters, hostIDRanges: hostIDRanges,
                                      connections: connections)
                })
            }.start()
        }
    }

    public var backend: String { "postgresql" }

    /// What `warden doctor` says of a PostgreSQL store, changing nothing: the
    /// server, the database and the schema's state. Throws what connecting threw,
    /// or `.schemaTooNew`.
    public static func inspect(connection: String) throws -> String {
        let connection = try PostgresConnection(connection)
        let version = connection.serverVersion
        let server = "PostgreSQL \(version / 10000).\(version % 10000), \(connection.summary)"
        let exists = try connection.execute("SELECT to_regclass('warden_migrations') IS NOT NULL AS found", []).first?.bool("found")
        guard exists == true else { return server + ", no Warden schema yet (warden serve creates it)" }
        let applied = Set(try connection.execute("SELECT version FROM warden_migrations", []).rows.map { try $0.string("version") })
        let unknown = applied.subtracting(PostgresMigrations.versions)
        guard unknown.isEmpty else {
            throw StoreError.schemaTooNew(database: connection.summary, unknownMigrations: unknown.sorted(),
                                          knownMigrations: PostgresMigrations.versions)
        }
        return server + ", schema: \(applied.count) of \(PostgresMigrations.versions.count) migrations applied"
    }

    public func ping() async throws {
        try await pool.run { connection in _ = try connection.execute("SELECT 1") }
    }

    public func close() async throws {
        await pool.close()
    }

    /// Statements outside a transaction (reads, single writes).
    func read<T: Sendable>(_ work: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await pool.run(work)
    }

    /// Statements in one transaction.
    func write<T: Sendable>(_ work: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await pool.run { connection in try connection.transaction { try work(connection) } }
    }

    // MARK: Tenants

    public func createTenant(name: String, plan: String) async throws -> Tenant {
        try Tenant.validate(name: name)
        try Tenant.validate(plan: plan)
        let ranges = hostIDRanges
        let now = Self.now()
        return try await write { connection in
            // One creator at a time: the next range starts where the highest ends.
            try connection.execute("SELECT pg_advisory_xact_lock($1)", [PostgresLocks.tenantCreation])
            if try Self.fetchLiveTenant(connection, named: name) != nil {
                throw StoreError.conflict("a tenant named '\(name)' already exists")
            }
            guard try Self.fetchPlan(connection, named: plan) != nil else {
                let known = try connection.execute("SELECT name FROM plans ORDER BY name", [])
                    .rows.map { try $0.string("name") }.joined(separator: ", ")
                throw StoreError.invalid("unknown plan '\(plan)'; the plans are \(known)")
            }
            let highestEnd = try connection.execute("SELECT MAX(host_id_base + host_id_count) AS high FROM tenants", [])
                .first?.optionalInt64("high")
            let tenant = Tenant(id: RandomID.tenantID(), name: name, plan: plan, status: .active,
                                hostIDBase: try ranges.nextBase(afterEnd: highestEnd),
                                hostIDCount: ranges.size, createdAt: now, updatedAt: now)
            try connection.execute("""
                INSERT INTO tenants (id, name, plan, status, host_id_base, host_id_count, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, [tenant.id, tenant.name, tenant.plan, tenant.status.rawValue, tenant.hostIDBase, tenant.hostIDCount,
                      Self.milliseconds(tenant.createdAt), Self.milliseconds(tenant.updatedAt)])
            return tenant
        }
    }

    public func tenant(id: String) async throws -> Tenant? {
        try await read { connection in try Self.fetchTenant(connection, id: id) }
    }

    public func tenant(named name: String) async throws -> Tenant? {
        try await read { connection in try Self.fetchLiveTenant(connection, named: name) }
    }

    public func listTenants(includeDeleted: Bool) async throws -> [Tenant] {
        try await read { connection in
            let filter = includeDeleted ? "" : "WHERE status <> 'deleted'"
            return try connection.execute("SELECT * FROM tenants \(filter) ORDER BY created_at, seq", []).rows
                .map(Self.tenant(from:))
        }
    }

    public func setTenantStatus(id: String, to status: TenantStatus) async throws -> Tenant {
        let now = Self.now()
        return try await write { connection in
            guard var tenant = try Self.fetchTenant(connection, id: id, forUpdate: true) else {
                throw StoreError.notFound("no tenant with id \(id)")
            }
            guard tenant.status.canChange(to: status) else {
                throw StoreError.conflict("tenant \(id) is \(tenant.status.rawValue) and cannot become \(status.rawValue)")
            }
            if tenant.status == status { return tenant }
            tenant.status = status
            tenant.updatedAt = now
            try connection.execute("UPDATE tenants SET status = $1, updated_at = $2 WHERE id = $3",
                                   [status.rawValue, Self.milliseconds(now), id])
            if status == .deleted {
                try connection.execute("UPDATE api_keys SET revoked_at = $1 WHERE tenant_id = $2 AND revoked_at IS NULL",
                                       [Self.milliseconds(now), id])
            }
            return tenant
        }
    }

    // MARK: Keys

    public func issueKey(tenantID: String) async throws -> IssuedKey {
        let token = APIKeyToken.generate()
        let now = Self.now()
        return try await write { connection in
            guard let tenant = try Self.fetchTenant(connection, id: tenantID, forUpdate: true) else {
                throw StoreError.notFound("no tenant with id \(tenantID)")
            }
            guard tenant.status != .deleted else {
                throw StoreError.conflict("tenant \(tenantID) is deleted; it cannot get new keys")
            }
            let key = APIKey(id: token.keyID, tenantID: tenantID, prefix: token.displayPrefix, createdAt: now)
            try connection.execute(
                "INSERT INTO api_keys (id, tenant_id, prefix, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                [key.id, key.tenantID, key.prefix, Data(token.hash), Self.milliseconds(key.createdAt)])
            return IssuedKey(key: key, token: token.token)
        }
    }

    public func apiKey(id: String) async throws -> APIKey? {
        try await read { connection in try Self.fetchKeyRow(connection, id: id).map(Self.apiKey(from:)) }
    }

    public func listKeys(tenantID: String?) async throws -> [APIKey] {
        try await read { connection in
            let rows = if let tenantID {
                try connection.execute("SELECT * FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, seq", [tenantID]).rows
            } else {
                try connection.execute("SELECT * FROM api_keys ORDER BY created_at, seq", []).rows
            }
            return try rows.map(Self.apiKey(from:))
        }
    }

    public func revokeKey(id: String) async throws -> APIKey {
        let now = Self.now()
        return try await write { connection in
            guard let row = try Self.fetchKeyRow(connection, id: id, forUpdate: true) else {
                throw StoreError.notFound("no API key with id \(id)")
            }
            var key = try Self.apiKey(from: row)
            if key.revokedAt == nil {
                key.revokedAt = now
                try connection.execute("UPDATE api_keys SET revoked_at = $1 WHERE id = $2", [Self.milliseconds(now), id])
            }
            return key
        }
    }

    public func authenticate(token: String) async throws -> Authentication? {
        guard let parsed = APIKeyToken(parsing: token) else { return nil }
        let presentedHash = parsed.hash
        let found: Authentication? = try await read { connection in
            guard let row = try Self.fetchKeyRow(connection, id: parsed.keyID) else { return nil }
            let storedHash = try row.data("secret_hash")
            guard APIKeyToken.constantTimeEquals(Array(storedHash), presentedHash) else { return nil }
            let key = try Self.apiKey(from: row)
            guard key.revokedAt == nil, let tenant = try Self.fetchTenant(connection, id: key.tenantID) else { return nil }
            return Authentication(key: key, tenant: tenant)
        }
        return try await markingUsed(found) { keyID, now in
            try await self.read { connection in
                _ = try connection.execute("UPDATE api_keys SET last_used_at = $1 WHERE id = $2", [now, keyID])
            }
        }
    }

    // MARK: Rows

    static func fetchTenant(_ connection: PostgresConnection, id: String, forUpdate: Bool = false) throws -> Tenant? {
        try connection.execute("SELECT * FROM tenants WHERE id = $1" + (forUpdate ? " FOR UPDATE" : ""), [id])
            .first.map(tenant(from:))
    }

    private static func fetchLiveTenant(_ connection: PostgresConnection, named name: String) throws -> Tenant? {
        try connection.execute("SELECT * FROM tenants WHERE name = $1 AND status <> 'deleted'", [name]).first.map(tenant(from:))
    }

    private static func fetchKeyRow(_ connection: PostgresConnection, id: String, forUpdate: Bool = false) throws -> PostgresRow? {
        try connection.execute("SELECT * FROM api_keys WHERE id = $1" + (forUpdate ? " FOR UPDATE" : ""), [id]).first
    }

    private static func tenant(from row: PostgresRow) throws -> Tenant {
        let rawStatus = try row.string("status")
        guard let status = TenantStatus(rawValue: rawStatus) else {
            throw StoreError.invalid("tenant \(try row.string("id")) has an unknown status '\(rawStatus)' in the database")
        }
        return Tenant(id: try row.string("id"), name: try row.string("name"), plan: try row.string("plan"), status: status,
                      hostIDBase: try row.int64("host_id_base"), hostIDCount: try row.int64("host_id_count"),
                      createdAt: date(try row.int64("created_at")), updatedAt: date(try row.int64("updated_at")))
    }

    private static func apiKey(from row: PostgresRow) throws -> APIKey {
        APIKey(id: try row.string("id"), tenantID: try row.string("tenant_id"), prefix: try row.string("prefix"),
               createdAt: date(try row.int64("created_at")), revokedAt: try row.optionalInt64("revoked_at").map(date),
               lastUsedAt: try row.optionalInt64("last_used_at").map(date))
    }
}
