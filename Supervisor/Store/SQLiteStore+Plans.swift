import Foundation
import GRDB

extension SQLiteStore {
    static func plan(from row: Row) throws -> Plan {
        try plan(name: row["name"], spec: row["spec"], createdAt: row["created_at"], updatedAt: row["updated_at"])
    }

    static func fetchPlan(_ db: Database, named name: String) throws -> Plan? {
        try Row.fetchOne(db, sql: "SELECT * FROM plans WHERE name = ?", arguments: [name]).map(plan(from:))
    }

    public func listPlans() async throws -> [Plan] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM plans ORDER BY name").map(Self.plan(from:)) }
    }

    public func plan(named name: String) async throws -> Plan? {
        try await pool.read { db in try Self.fetchPlan(db, named: name) }
    }

    public func createPlan(_ plan: Plan) async throws -> Plan {
        try plan.validate()
        let now = Self.now()
        return try await pool.write { db in
            if try Self.fetchPlan(db, named: plan.name) != nil {
                throw StoreError.conflict("a plan named '\(plan.name)' already exists")
            }
            try db.execute(sql: "INSERT INTO plans (name, spec, created_at, updated_at) VALUES (?, ?, ?, ?)",
                           arguments: [plan.name, try Self.planSpec(plan), Self.milliseconds(now), Self.milliseconds(now)])
            return try Self.fetchPlan(db, named: plan.name) ?? plan
        }
    }

    public func updatePlan(_ plan: Plan) async throws -> Plan {
        try plan.validate()
        let now = Self.now()
        return try await pool.write { db in
            guard try Self.fetchPlan(db, named: plan.name) != nil else { throw StoreError.notFound("no plan named '\(plan.name)'") }
            try db.execute(sql: "UPDATE plans SET spec = ?, updated_at = ? WHERE name = ?",
                           arguments: [try Self.planSpec(plan), Self.milliseconds(now), plan.name])
            return try Self.fetchPlan(db, named: plan.name) ?? plan
        }
    }

    public func deletePlan(named name: String) async throws {
        try await pool.write { db in
            guard try Self.fetchPlan(db, named: name) != nil else { throw StoreError.notFound("no plan named '\(name)'") }
            let users = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tenants WHERE plan = ? AND status <> 'deleted'",
                                         arguments: [name]) ?? 0
            guard users == 0 else {
                throw StoreError.conflict("plan '\(name)' is used by \(users) tenant(s); move them with `warden tenant set-plan` first")
            }
            try db.execute(sql: "DELETE FROM plans WHERE name = ?", arguments: [name])
        }
    }

    public func setTenantPlan(id: String, plan: String) async throws -> Tenant {
        let now = Self.now()
        return try await pool.write { db in
            guard var tenant = try Self.fetchTenant(db, id: id) else { throw StoreError.notFound("no tenant with id \(id)") }
            guard tenant.status != .deleted else { throw StoreError.conflict("tenant \(id) is deleted") }
            guard try Self.fetchPlan(db, named: plan) != nil else { throw StoreError.invalid("unknown plan '\(plan)'") }
            try db.execute(sql: "UPDATE tenants SET plan = ?, updated_at = ? WHERE id = ?",
                           arguments: [plan, Self.milliseconds(now), id])
            tenant.plan = plan
            tenant.updatedAt = now
            return tenant
        }
    }

    public func tenantLimits(tenantID: String) async throws -> [String: Limit] {
        try await pool.read { db in
            var limits: [String: Limit] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM tenant_limits WHERE tenant_id = ?", arguments: [tenantID]) {
                limits[row["metric"]] = Limit(row["limit_value"], hard: row["hard"])
            }
            return limits
        }
    }

    public func setTenantLimit(tenantID: String, metric: String, limit: Limit?) async throws {
        if let limit {
            // The same rules as a plan's limits.
            try Plan(name: "override", tools: [], network: false, limits: [metric: limit]).validate()
        }
        try await pool.write { db in
            guard try Self.fetchTenant(db, id: tenantID) != nil else { throw StoreError.notFound("no tenant with id \(tenantID)") }
            if let limit {
                try db.execute(sql: """
                    INSERT INTO tenant_limits (tenant_id, metric, limit_value, hard) VALUES (?, ?, ?, ?)
                    ON CONFLICT (tenant_id, metric) DO UPDATE SET limit_value = excluded.limit_value, hard = excluded.hard
                    """, arguments: [tenantID, metric, limit.limit, limit.hard])
            } else {
                try db.execute(sql: "DELETE FROM tenant_limits WHERE tenant_id = ? AND metric = ?", arguments: [tenantID, metric])
            }
        }
    }
}
