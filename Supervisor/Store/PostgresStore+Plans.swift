import Foundation

extension PostgresStore {
    static func fetchPlan(_ connection: PostgresConnection, named name: String) throws -> Plan? {
        try connection.execute("SELECT * FROM plans WHERE name = $1", [name]).first.map(plan(from:))
    }

    private static func plan(from row: PostgresRow) throws -> Plan {
        try plan(name: try row.string("name"), spec: try row.string("spec"), createdAt: try row.int64("created_at"),
                 updatedAt: try row.int64("updated_at"))
    }

    public func listPlans() async throws -> [Plan] {
        try await read { connection in try connection.execute("SELECT * FROM plans ORDER BY name", []).rows.map(Self.plan(from:)) }
    }

    public func plan(named name: String) async throws -> Plan? {
        try await read { connection in try Self.fetchPlan(connection, named: name) }
    }

    public func createPlan(_ plan: Plan) async throws -> Plan {
        try plan.validate()
        let now = Self.milliseconds(Self.now())
        let spec = try Self.planSpec(plan)
        return try await write { connection in
            let inserted = try connection.execute("""
                INSERT INTO plans (name, spec, created_at, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING
                """, [plan.name, spec, now, now]).affectedRows
            guard inserted == 1 else { throw StoreError.conflict("a plan named '\(plan.name)' already exists") }
            return try Self.fetchPlan(connection, named: plan.name) ?? plan
        }
    }

    public func updatePlan(_ plan: Plan) async throws -> Plan {
        try plan.validate()
        let now = Self.milliseconds(Self.now())
        let spec = try Self.planSpec(plan)
        return try await write { connection in
            let updated = try connection.execute("UPDATE plans SET spec = $1, updated_at = $2 WHERE name = $3",
                                                 [spec, now, plan.name]).affectedRows
            guard updated == 1 else { throw StoreError.notFound("no plan named '\(plan.name)'") }
            return try Self.fetchPlan(connection, named: plan.name) ?? plan
        }
    }

    public func deletePlan(named name: String) async throws {
        try await write { connection in
            // Locked so that no tenant moves onto the plan between the count and the delete.
            guard try connection.execute("SELECT name FROM plans WHERE name = $1 FOR UPDATE", [name]).first != nil else {
                throw StoreError.notFound("no plan named '\(name)'")
            }
            let users = try connection.execute("SELECT COUNT(*) AS n FROM tenants WHERE plan = $1 AND status <> 'deleted'",
                                               [name]).first?.int("n") ?? 0
            guard users == 0 else {
                throw StoreError.conflict("plan '\(name)' is used by \(users) tenant(s); move them with `warden tenant set-plan` first")
            }
            try connection.execute("DELETE FROM plans WHERE name = $1", [name])
        }
    }

    public func setTenantPlan(id: String, plan: String) async throws -> Tenant {
        let now = Self.now()
        return try await write { connection in
            guard var tenant = try Self.fetchTenant(connection, id: id, forUpdate: true) else {
                throw StoreError.notFound("no tenant with id \(id)")
            }
            guard tenant.status != .deleted else { throw StoreError.conflict("tenant \(id) is deleted") }
            // FOR SHARE: the plan cannot be deleted until this commits.
            guard try connection.execute("SELECT name FROM plans WHERE name = $1 FOR SHARE", [plan]).first != nil else {
                throw StoreError.invalid("unknown plan '\(plan)'")
            }
            try connection.execute("UPDATE tenants SET plan = $1, updated_at = $2 WHERE id = $3",
                                   [plan, Self.milliseconds(now), id])
            tenant.plan = plan
            tenant.updatedAt = now
            return tenant
        }
    }

    public func tenantLimits(tenantID: String) async throws -> [String: Limit] {
        try await read { connection in
            var limits: [String: Limit] = [:]
            for row in try connection.execute("SELECT * FROM tenant_limits WHERE tenant_id = $1", [tenantID]).rows {
                limits[try row.string("metric")] = Limit(try row.double("limit_value"), hard: try row.bool("hard"))
            }
            return limits
        }
    }

    public func setTenantLimit(tenantID: String, metric: String, limit: Limit?) async throws {
        if let limit {
            // The same rules as a plan's limits.
            try Plan(name: "override", tools: [], network: false, limits: [metric: limit]).validate()
        }
        try await write { connection in
            guard try Self.fetchTenant(connection, id: tenantID) != nil else { throw StoreError.notFound("no tenant with id \(tenantID)") }
            if let limit {
                try connection.execute("""
                    INSERT INTO tenant_limits (tenant_id, metric, limit_value, hard) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (tenant_id, metric) DO UPDATE SET limit_value = excluded.limit_value, hard = excluded.hard
                    """, [tenantID, metric, limit.limit, limit.hard])
            } else {
                try connection.execute("DELETE FROM tenant_limits WHERE tenant_id = $1 AND metric = $2", [tenantID, metric])
            }
        }
    }
}
