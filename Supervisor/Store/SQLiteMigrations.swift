import Foundation
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
        migrator.registerMigration("v3-plans-and-usage") { db in
            try db.create(table: "plans") { table in
                table.primaryKey("name", .text)
                table.column("spec", .text).notNull()
                table.column("created_at", .integer).notNull()
                table.column("updated_at", .integer).notNull()
            }
            let now = SQLiteStore.milliseconds(Date())
            for plan in Plan.defaults {
                try db.execute(sql: "INSERT INTO plans (name, spec, created_at, updated_at) VALUES (?, ?, ?, ?)",
                               arguments: [plan.name, try SQLiteStore.planSpec(plan), now, now])
            }
            try db.create(table: "tenant_limits") { table in
                table.column("tenant_id", .text).notNull().references("tenants")
                table.column("metric", .text).notNull()
                table.column("limit_value", .double).notNull()
                table.column("hard", .boolean).notNull()
                table.primaryKey(["tenant_id", "metric"])
            }
            // Gauges use period_start 0.
            try db.create(table: "usage_counters") { table in
                table.column("tenant_id", .text).notNull()
                table.column("metric", .text).notNull()
                table.column("period_start", .integer).notNull()
                table.column("used", .double).notNull().defaults(to: 0)
                table.column("reserved", .double).notNull().defaults(to: 0)
                table.primaryKey(["tenant_id", "metric", "period_start"])
            }
            try db.create(table: "reservations") { table in
                table.primaryKey("id", .text)
                table.column("tenant_id", .text).notNull().indexed()
                table.column("tool", .text).notNull()
                table.column("request_id", .text).notNull()
                table.column("idempotency_key", .text).notNull()
                table.column("started_at", .integer).notNull()
                table.column("charges", .text).notNull()
            }
            try db.create(index: "reservations_idempotency", on: "reservations", columns: ["tenant_id", "idempotency_key"],
                          options: .unique)
            try db.create(table: "usage_ledger") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("tenant_id", .text).notNull()
                table.column("tool", .text).notNull()
                table.column("request_id", .text).notNull()
                table.column("idempotency_key", .text).notNull()
                table.column("started_at", .integer).notNull()
                table.column("ended_at", .integer).notNull().indexed()
                table.column("status", .text).notNull()
                table.column("http_status", .integer).notNull()
                table.column("cpu_ms", .integer).notNull()
                table.column("wall_ms", .integer).notNull()
                table.column("memory_peak_bytes", .integer).notNull()
                table.column("bytes_in", .integer).notNull()
                table.column("bytes_out", .integer).notNull()
                table.column("egress_bytes", .integer).notNull()
                table.column("decision", .text).notNull()
                table.column("response", .blob)
            }
            try db.create(index: "usage_ledger_idempotency", on: "usage_ledger", columns: ["tenant_id", "idempotency_key"],
                          options: .unique)
            try db.create(index: "usage_ledger_tenant", on: "usage_ledger", columns: ["tenant_id", "ended_at"])
        }
        // The same tables as PostgreSQL's, so one code path serves one node or several.
        migrator.registerMigration("v4-nodes-and-tenant-leases") { db in
            try db.create(table: "nodes") { table in
                table.primaryKey("id", .text)
                table.column("incarnation", .text).notNull()
                table.column("advertise", .text)
                table.column("state", .text).notNull().check { ["up", "left"].contains($0) }
                table.column("started_at", .integer).notNull()
                table.column("heartbeat_at", .integer).notNull()
                table.column("lease_ttl_ms", .integer).notNull()
                table.column("workers_running", .integer).notNull().defaults(to: 0)
                table.column("calls_in_flight", .integer).notNull().defaults(to: 0)
            }
            try db.create(table: "tenant_leases") { table in
                table.primaryKey("tenant_id", .text)
                table.column("node_id", .text).notNull().indexed()
                table.column("acquired_at", .integer).notNull()
                table.column("expires_at", .integer).notNull()
            }
            try db.alter(table: "reservations") { table in table.add(column: "node_id", .text) }
        }
        return migrator
    }
}
