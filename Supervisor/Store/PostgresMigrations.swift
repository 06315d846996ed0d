import Foundation

/// The PostgreSQL schema, one migration per version, recorded in
/// `warden_migrations`. Never edit a migration that has shipped: add the next.
///
/// Times are BIGINT milliseconds since the Unix epoch, as in SQLite. `seq`
/// columns keep creation order where ids are random.
enum PostgresMigrations {
    struct Migration: Sendable {
        var version: String
        var apply: @Sendable (PostgresConnection) throws -> Void
    }

    static let all: [Migration] = [
        Migration(version: "v1-tenants-keys-audit-approvals-plans-usage") { connection in
            try connection.execute(v1)
            let now = PostgresStore.milliseconds(Date())
            for plan in Plan.defaults {
                try connection.execute("INSERT INTO plans (name, spec, created_at, updated_at) VALUES ($1, $2, $3, $4)",
                                       [plan.name, try PostgresStore.planSpec(plan), now, now])
            }
        },
        Migration(version: "v2-nodes-and-tenant-leases") { connection in
            try connection.execute(v2)
        },
    ]

    static var versions: [String] { all.map(\.version) }

    /// Brings the schema up to date in one transaction, under an advisory lock
    /// so that nodes starting together migrate one after the other. Refuses,
    /// without changing anything, a schema with versions this Warden does not know.
    static func migrate(_ connection: PostgresConnection) throws {
        try connection.transaction {
            try connection.execute("SELECT pg_advisory_xact_lock($1)", [PostgresLocks.migrations])
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS warden_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)
                """)
            let applied = Set(try connection.execute("SELECT version FROM warden_migrations").rows.map { try $0.string("version") })
            let unknown = applied.subtracting(versions)
            guard unknown.isEmpty else {
                throw StoreError.schemaTooNew(database: connection.summary, unknownMigrations: unknown.sorted(),
                                              knownMigrations: versions)
            }
            for migration in all where !applied.contains(migration.version) {
                try migration.apply(connection)
                try connection.execute("INSERT INTO warden_migrations (version, applied_at) VALUES ($1, $2)",
                                       [migration.version, PostgresStore.milliseconds(Date())])
            }
        }
    }

    private static func list<T: RawRepresentable>(_ values: [T]) -> String where T.RawValue == String {
        values.map { "'\($0.rawValue)'" }.joined(separator: ", ")
    }

    private static let v1 = """
        CREATE TABLE tenants (
            seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            plan TEXT NOT NULL DEFAULT '\(Tenant.defaultPlan)',
            status TEXT NOT NULL CHECK (status IN (\(list(TenantStatus.allCases)))),
            host_id_base BIGINT NOT NULL UNIQUE,
            host_id_count BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        -- A deleted tenant gives its name back; live names stay unique.
        CREATE UNIQUE INDEX tenants_live_name ON tenants (name) WHERE status <> 'deleted';

        CREATE TABLE api_keys (
            seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants,
            prefix TEXT NOT NULL,
            secret_hash BYTEA NOT NULL,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT,
            last_used_at BIGINT
        );
        CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

        CREATE TABLE audit_log (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            time BIGINT NOT NULL,
            event TEXT NOT NULL,
            tenant_id TEXT,
            tool TEXT,
            input_digest TEXT,
            decision TEXT NOT NULL,
            reasons TEXT NOT NULL,
            request_id TEXT,
            actor TEXT
        );
        CREATE INDEX audit_log_time ON audit_log (time);
        CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);

        CREATE TABLE approvals (
            seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants,
            tool TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN (\(list(ApprovalStatus.allCases)))),
            request_id TEXT NOT NULL,
            reasons TEXT NOT NULL,
            call BYTEA NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            decided_at BIGINT,
            decided_by TEXT,
            decision_note TEXT,
            result_status BIGINT,
            result BYTEA
        );
        CREATE INDEX approvals_tenant ON approvals (tenant_id, created_at);
        CREATE INDEX approvals_status ON approvals (status);

        CREATE TABLE plans (
            name TEXT PRIMARY KEY,
            spec TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );

        CREATE TABLE tenant_limits (
            tenant_id TEXT NOT NULL REFERENCES tenants,
            metric TEXT NOT NULL,
            limit_value DOUBLE PRECISION NOT NULL,
            hard BOOLEAN NOT NULL,
            PRIMARY KEY (tenant_id, metric)
        );

        -- Gauges use period_start 0.
        CREATE TABLE usage_counters (
            tenant_id TEXT NOT NULL,
            metric TEXT NOT NULL,
            period_start BIGINT NOT NULL,
            used DOUBLE PRECISION NOT NULL DEFAULT 0,
            reserved DOUBLE PRECISION NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant_id, metric, period_start)
        );

        CREATE TABLE reservations (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL,
            tool TEXT NOT NULL,
            request_id TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            started_at BIGINT NOT NULL,
            charges TEXT NOT NULL,
            UNIQUE (tenant_id, idempotency_key)
        );

        CREATE TABLE usage_ledger (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tenant_id TEXT NOT NULL,
            tool TEXT NOT NULL,
            request_id TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            started_at BIGINT NOT NULL,
            ended_at BIGINT NOT NULL,
            status TEXT NOT NULL,
            http_status BIGINT NOT NULL,
            cpu_ms BIGINT NOT NULL,
            wall_ms BIGINT NOT NULL,
            memory_peak_bytes BIGINT NOT NULL,
            bytes_in BIGINT NOT NULL,
            bytes_out BIGINT NOT NULL,
            egress_bytes BIGINT NOT NULL,
            decision TEXT NOT NULL,
            response BYTEA,
            UNIQUE (tenant_id, idempotency_key)
        );
        CREATE INDEX usage_ledger_ended ON usage_ledger (ended_at);
        CREATE INDEX usage_ledger_tenant ON usage_ledger (tenant_id, ended_at);
        """

    /// Several nodes on one store: who is there, and which node runs each tenant's worker.
    private static let v2 = """
        CREATE TABLE nodes (
            id TEXT PRIMARY KEY,
            incarnation TEXT NOT NULL,
            advertise TEXT,
            state TEXT NOT NULL CHECK (state IN ('up', 'left')),
            started_at BIGINT NOT NULL,
            heartbeat_at BIGINT NOT NULL,
            lease_ttl_ms BIGINT NOT NULL,
            workers_running BIGINT NOT NULL DEFAULT 0,
            calls_in_flight BIGINT NOT NULL DEFAULT 0
        );

        -- One row per tenant whose worker some node may run; expired rows may be taken over.
        CREATE TABLE tenant_leases (
            tenant_id TEXT PRIMARY KEY,
            node_id TEXT NOT NULL,
            acquired_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL
        );
        CREATE INDEX tenant_leases_node ON tenant_leases (node_id);

        -- The node running the call: another settles it when that node dies.
        ALTER TABLE reservations ADD COLUMN node_id TEXT;
        """
}

/// Advisory lock keys. The one-key (bigint) and two-key (int, int) spaces
/// never collide, so per-tenant locks use the two-key form.
enum PostgresLocks {
    static let migrations: Int64 = 0x7761_7264_0001
    /// Creating a tenant: host id ranges are allocated one creator at a time.
    static let tenantCreation: Int64 = 0x7761_7264_0002
    /// Appending to the audit log: ids are given in commit order, so a
    /// follower reading `id > last` never misses a record committed later.
    static let auditAppend: Int64 = 0x7761_7264_0003
    /// First key of a tenant's usage lock; the second is hashtext(tenant id).
    static let usageClass: Int32 = 0x7755
}
