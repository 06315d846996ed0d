import Foundation

/// Nodes and tenant leases on the server's clock: every node compares ages
/// and expiries against the same time, whatever its own clock says.
extension PostgresStore {
    /// Milliseconds since the epoch, now (not at the transaction's start).
    static let clockSQL = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT"

    private static func clock(_ connection: PostgresConnection) throws -> Int64 {
        guard let now = try connection.execute("SELECT \(clockSQL) AS now", []).first?.int64("now") else {
            throw StoreError.unavailable("PostgreSQL did not say what time it is")
        }
        return now
    }

    public func registerNode(_ registration: NodeRegistration) async throws -> NodeRegistrationOutcome {
        try NodeRecord.validate(id: registration.id)
        return try await write { connection in
            let now = try Self.clock(connection)
            if let row = try connection.execute("SELECT * FROM nodes WHERE id = $1 FOR UPDATE", [registration.id]).first,
               let blocked = registration.blocked(byState: try row.string("state"), incarnation: try row.string("incarnation"),
                                                  heartbeatAgeMs: now - (try row.int64("heartbeat_at")),
                                                  leaseTTLMs: try row.int64("lease_ttl_ms")) {
                return blocked
            }
            try connection.execute(NodeSQL.register(placeholders: (1...6).map { "$\($0)" }),
                                   [registration.id, registration.incarnation, registration.advertise, now, now,
                                    registration.leaseTTLMs])
            return .registered
        }
    }

    public func heartbeat(_ beat: NodeHeartbeat) async throws -> [RenewedLease] {
        let tenantIDs = try NodeSQL.jsonList(beat.tenantIDs)
        return try await write { connection in
            let now = try Self.clock(connection)
            let own = try connection.execute("""
                UPDATE nodes SET heartbeat_at = $1, advertise = COALESCE($2, advertise), lease_ttl_ms = $3, workers_running = $4,
                                 calls_in_flight = $5, state = 'up'
                WHERE id = $6 AND incarnation = $7 RETURNING id
                """, [now, beat.advertise, beat.leaseTTLMs, beat.workersRunning, beat.callsInFlight, beat.nodeID,
                      beat.incarnation])
            guard own.first != nil else { throw NodeSQL.replaced(beat.nodeID) }
            return try connection.execute("""
                UPDATE tenant_leases l SET expires_at = $1 + $2 FROM tenants t
                WHERE t.id = l.tenant_id AND l.node_id = $3 AND l.expires_at > $1
                  AND l.tenant_id IN (SELECT jsonb_array_elements_text($4::jsonb))
                RETURNING l.tenant_id, t.status
                """, [now, beat.leaseTTLMs, beat.nodeID, tenantIDs]).rows.map { row in
                RenewedLease(tenantID: try row.string("tenant_id"),
                             tenantStatus: TenantStatus(rawValue: try row.string("status")))
            }
        }
    }

    public func leaveNode(id: String, incarnation: String) async throws {
        try await write { connection in
            let now = try Self.clock(connection)
            let own = try connection.execute("""
                UPDATE nodes SET state = 'left', heartbeat_at = $1, workers_running = 0, calls_in_flight = 0
                WHERE id = $2 AND incarnation = $3 RETURNING id
                """, [now, id, incarnation])
            // Under a newer incarnation the leases are that process's to release.
            if own.first != nil {
                try connection.execute("DELETE FROM tenant_leases WHERE node_id = $1", [id])
            }
        }
    }

    public func listNodes() async throws -> [NodeRecord] {
        try await read { connection in
            try connection.execute("""
                SELECT n.*, c.now AS clock_now,
                       (SELECT COUNT(*) FROM tenant_leases l WHERE l.node_id = n.id AND l.expires_at > c.now) AS leases
                FROM nodes n CROSS JOIN (SELECT \(Self.clockSQL) AS now) c ORDER BY n.id
                """, []).rows.map(Self.node(from:))
        }
    }

    public func forgetNode(id: String) async throws -> NodeRecord {
        try NodeRecord.validate(id: id)
        return try await write { connection in
            // The row is locked until the end: a heartbeat arriving meanwhile waits, then finds it gone.
            guard let row = try connection.execute("""
                SELECT n.*, c.now AS clock_now,
                       (SELECT COUNT(*) FROM tenant_leases l WHERE l.node_id = n.id AND l.expires_at > c.now) AS leases
                FROM nodes n CROSS JOIN (SELECT \(Self.clockSQL) AS now) c WHERE n.id = $1 FOR UPDATE OF n
                """, [id]).rows.first else {
                throw StoreError.notFound("no node '\(id)' in the store")
            }
            let node = try Self.node(from: row)
            guard node.state != .live else { throw NodeSQL.stillLive(node) }
            try connection.execute("DELETE FROM tenant_leases WHERE node_id = $1", [id])
            try connection.execute("DELETE FROM nodes WHERE id = $1", [id])
            return node
        }
    }

    public func acquireLease(tenantID: String, nodeID: String, ttlMs: Int64) async throws -> LeaseOutcome {
        try await read { connection in
            // A row inserted by another node after this statement's snapshot can
            // stop the insert without being visible to it: ask again.
            for _ in 0..<5 {
                guard let row = try connection.execute("""
                    WITH clock AS (SELECT \(Self.clockSQL) AS now),
                    taken AS (
                        INSERT INTO tenant_leases AS l (tenant_id, node_id, acquired_at, expires_at)
                        SELECT $1, $2, clock.now, clock.now + $3 FROM clock
                        ON CONFLICT (tenant_id) DO UPDATE
                        SET node_id = excluded.node_id, expires_at = excluded.expires_at,
                            acquired_at = CASE WHEN l.node_id = excluded.node_id AND l.expires_at > excluded.acquired_at
                                               THEN l.acquired_at ELSE excluded.acquired_at END
                        WHERE l.node_id = excluded.node_id OR l.expires_at <= excluded.acquired_at
                        RETURNING l.tenant_id, l.node_id, l.acquired_at, l.expires_at)
                    SELECT taken.*, TRUE AS mine, NULL::TEXT AS advertise, clock.now AS clock_now FROM taken, clock
                    UNION ALL
                    SELECT l.tenant_id, l.node_id, l.acquired_at, l.expires_at, FALSE, n.advertise, clock.now
                    FROM tenant_leases l CROSS JOIN clock LEFT JOIN nodes n ON n.id = l.node_id
                    WHERE l.tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM taken)
                    """, [tenantID, nodeID, ttlMs]).first else { continue }
                let lease = try Self.lease(from: row)
                return try row.bool("mine") ? .acquired(lease) : .held(lease)
            }
            throw StoreError.unavailable("the lease of tenant \(tenantID) changed hands five times in a row; try again")
        }
    }

    public func releaseLease(tenantID: String, nodeID: String) async throws {
        try await read { connection in
            _ = try connection.execute("DELETE FROM tenant_leases WHERE tenant_id = $1 AND node_id = $2", [tenantID, nodeID])
        }
    }

    public func listLeases() async throws -> [TenantLease] {
        try await read { connection in
            try connection.execute("""
                SELECT l.*, n.advertise, c.now AS clock_now
                FROM tenant_leases l CROSS JOIN (SELECT \(Self.clockSQL) AS now) c LEFT JOIN nodes n ON n.id = l.node_id
                ORDER BY l.tenant_id
                """, []).rows.map(Self.lease(from:))
        }
    }

    private static func lease(from row: PostgresRow) throws -> TenantLease {
        let expires = try row.int64("expires_at")
        return TenantLease(tenantID: try row.string("tenant_id"), nodeID: try row.string("node_id"),
                           advertise: try row.optionalString("advertise"), acquiredAt: date(try row.int64("acquired_at")),
                           expiresAt: date(expires), remainingMs: expires - (try row.int64("clock_now")))
    }

    private static func node(from row: PostgresRow) throws -> NodeRecord {
        let heartbeat = try row.int64("heartbeat_at"), ttl = try row.int64("lease_ttl_ms")
        let age = try row.int64("clock_now") - heartbeat
        return NodeRecord(id: try row.string("id"), advertise: try row.optionalString("advertise"),
                          incarnation: try row.string("incarnation"), startedAt: date(try row.int64("started_at")),
                          heartbeatAt: date(heartbeat), leaseTTLMs: ttl,
                          state: .of(left: try row.string("state") == "left", heartbeatAgeMs: age, leaseTTLMs: ttl),
                          workersRunning: try row.int("workers_running"), callsInFlight: try row.int("calls_in_flight"),
                          leases: try row.int("leases"), heartbeatAgeMs: age)
    }
}
