import GRDB

/// The SQLite schema, one registered migration per version. Never edit a
/// migration that has shipped: add the next one.
///
/// Times are INTEGER milliseconds since the Unix epoch: exact to round-trip,
/// and the same representation a PostgreSQL bigint column will hold.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-tenants-and-api-keys") { db in
            try db.create(table: "tenants") { table in
                table.primaryKey("id", .text)
                table.column("name", .text).notNull()
                table.column("plan", .text).notNull().defaults(to: Tenant.defaultPlan)
                table.column("status", .text).notNull()
                    .check { TenantStatus.allCases.map(\.rawValue).contains($0) }
                table.column("host_id_base", .integer).notNull().unique()
                table.column("host_id_count", .integer).notNull()
                table.column("created_at", .integer).notNull()
                table.column("updated_at", .integer).notNull()
            }
            // A deleted tenant gives its name back; live names stay unique.
            try db.create(index: "tenants_live_name", on: "tenants", columns: ["name"],
                          options: .unique, condition: Column("status") != TenantStatus.deleted.rawValue)

            try db.create(table: "api_keys") { table in
                table.primaryKey("id", .text)
                table.column("tenant_id", .text).notNull().indexed().references("tenants")
                table.column("prefix", .text).notNull()
                table.column("secret_hash", .blob).notNull()
                table.column("created_at", .integer).notNull()
                table.column("revoked_at", .integer)
                table.column("last_used_at", .integer)
            }
        }
        migrator.registerMigration("v2-audit-log-and-approvals") { db in
            // INTEGER PRIMARY KEY AUTOINCREMENT: ids never reused, so followers of the log miss nothing.
            try db.create(table: "audit_log") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("time", .integer).notNull().indexed()
                table.column("event", .text).notNull()
                table.column("tenant_id", .text)
                table.column("tool", .text)
                table.column("input_digest", .text)
                table.column("decision", .text).notNull()
                table.column("reasons", .text).notNull()
                table.column("request_id", .text)
                table.column("actor", .text)
            }
            try db.create(index: "audit_log_tenant", on: "audit_log", columns: ["tenant_id", "id"])

            try db.create(table: "approvals") { table in
                table.primaryKey("id", .text)
                table.column("tenant_id", .text).notNull().references("tenants")
                table.column("tool", .text).notNull()
                table.column("status", .text).notNull()
                    .check { ApprovalStatus.allCases.map(\.rawValue).contains($0) }
                table.column("request_id", .text).notNull()
                table.column("reasons", .text).notNull()
                table.column("call", .blob).notNull()
                table.column("created_at", .integer).notNull()
                table.column("expires_at", .integer).notNull()
                table.column("decided_at", .integer)
                table.column("decided_by", .text)
                table.column("decision_note", .text)
                table.column("result_status", .integer)
                table.column("result", .blob)
            }
            try db.create(index: "approvals_tenant", on: "approvals", columns: ["tenant_id", "created_at"])
            try db.create(index: "approvals_status", on: "approvals", columns: ["status"])
        }
        return migrator
    }
}
