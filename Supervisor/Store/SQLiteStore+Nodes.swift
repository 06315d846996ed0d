import Foundation
import GRDB

/// Nodes and tenant leases in the embedded store: one node holds every lease,
/// through the same code path as a cluster's nodes on PostgreSQL.
extension SQLiteStore {
    public func registerNode(_ registration: NodeRegistration) async throws -> NodeRegistrationOutcome {
        try NodeRecord.validate(id: registration.id)
        let now = Self.milliseconds(Date())
        return try await pool.write { db in
            if let row = try Row.fetchOne(db, sql: "SELECT * FROM nodes WHERE id = ?", arguments: [registration.id]),
               let blocked = registration.blocked(byState: row["state"], incarnation: row["incarnation"],
                                                  heartbeatAgeMs: now - (row["heartbeat_at"] as Int64),
                                                  leaseTTLMs: row["lease_ttl_ms"]) {
                return blocked
            }
            try db.execute(sql: NodeSQL.register(placeholders: Array(repeating: "?", count: 6)),
                           arguments: [registration.id, registration.incarnation, registration.advertise, now, now,
                                       registration.leaseTTLMs])
            return .registered
        }
    }

    public func heartbeat(_ beat: NodeHeartbeat) async throws -> [RenewedLease] {
        let tenantIDs = try NodeSQL.jsonList(beat.tenantIDs)
        let now = Self.milliseconds(Date())
        return try await pool.write { db in
            try db.execute(sql: """
                UPDATE nodes SET heartbeat_at = ?, advertise = COALESCE(?, advertise), lease_ttl_ms = ?, workers_running = ?,
                                 calls_in_flight = ?, state = 'up'
                WHERE id = ? AND incarnation = ?
                """, arguments: [now, beat.advertise, beat.leaseTTLMs, beat.workersRunning, beat.callsInFlight,
                                 beat.nodeID, beat.incarnation])
            guard db.changesCount > 0 else { throw NodeSQL.replaced(beat.nodeID) }
            let held = "node_id = ? AND expires_at > ? AND tenant_id IN (SELECT value FROM json_each(?))"
            let renewed = try Row.fetchAll(db, sql: """
                SELECT l.tenant_id, t.status FROM tenant_leases l JOIN tenants t ON t.id = l.tenant_id WHERE l.\(held)
                """, arguments: [beat.nodeID, now, tenantIDs]).map { row in
                RenewedLease(tenantID: row["tenant_id"], tenantStatus: TenantStatus(rawValue: row["status"]))
            }
            try db.execute(sql: "UPDATE tenant_leases SET expires_at = ? WHERE \(held)",
                           arguments: [now + beat.leaseTTLMs, beat.nodeID, now, tenantIDs])
            return renewed
        }
    }

    public func leaveNode(id: String, incarnation: String) async throws {
        let now = Self.milliseconds(Date())
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE nodes SET state = 'left', heartbeat_at = ?, workers_running = 0, calls_in_flight = 0
                WHERE id = ? AND incarnation = ?
                """, arguments: [now, id, incarnation])
            // Under a newer incarnation the leases are that process's to release.
            if db.changesCount > 0 {
                try db.execute(sql: "DELETE FROM tenant_leases WHERE node_id = ?", arguments: [id])
            }
        }
    }

    public func listNodes() async throws -> [NodeRecord] {
        let now = Self.milliseconds(Date())
        return try await pool.read { db in
            try Self.fetchNodes(db, now: now, where: "1")
        }
    }

    public func forgetNode(id: String) async throws -> NodeRecord {
        try NodeRecord.validate(id: id)
        let now = Self.milliseconds(Date())
        return try await pool.write { db in
            guard let node = try Self.fetchNodes(db, now: now, where: "n.id = ?", [id]).first else {
                throw StoreError.notFound("no node '\(id)' in the store")
            }
            guard node.state != .live else { throw NodeSQL.stillLive(node) }
            try db.execute(sql: "DELETE FROM tenant_leases WHERE node_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM nodes WHERE id = ?", arguments: [id])
            return node
        }
    }

    private static func fetchNodes(_ db: Database, now: Int64, where condition: String,
                                   _ arguments: [any DatabaseValueConvertible] = []) throws -> [NodeRecord] {
        try Row.fetchAll(db, sql: """
            SELECT n.*, (SELECT COUNT(*) FROM tenant_leases l WHERE l.node_id = n.id AND l.expires_at > ?) AS leases
            FROM nodes n WHERE \(condition) ORDER BY n.id
            """, arguments: StatementArguments([now] + arguments)).map { row in
            let heartbeat: Int64 = row["heartbeat_at"], ttl: Int64 = row["lease_ttl_ms"]
            return NodeRecord(id: row["id"], advertise: row["advertise"], incarnation: row["incarnation"],
                              startedAt: Self.date(row["started_at"]), heartbeatAt: Self.date(heartbeat),
                              leaseTTLMs: ttl,
                              state: .of(left: row["state"] == "left", heartbeatAgeMs: now - heartbeat, leaseTTLMs: ttl),
                              workersRunning: row["workers_running"], callsInFlight: row["calls_in_flight"],
                              leases: row["leases"], heartbeatAgeMs: now - heartbeat)
        }
    }

    public func acquireLease(tenantID: String, nodeID: String, ttlMs: Int64) async throws -> LeaseOutcome {
        let now = Self.milliseconds(Date())
        return try await pool.write { db in
            if let current = try Self.fetchLease(db, tenantID: tenantID, now: now),
               current.nodeID != nodeID, current.remainingMs > 0 {
                return .held(current)
            }
            try db.execute(sql: """
                INSERT INTO tenant_leases (tenant_id, node_id, acquired_at, expires_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (tenant_id) DO UPDATE SET expires_at = excluded.expires_at, node_id = excluded.node_id,
                    acquired_at = CASE WHEN tenant_leases.node_id = excluded.node_id AND tenant_leases.expires_at > ?
                                       THEN tenant_leases.acquired_at ELSE excluded.acquired_at END
                """, arguments: [tenantID, nodeID, now, now + ttlMs, now])
            guard let taken = try Self.fetchLease(db, tenantID: tenantID, now: now) else {
                throw StoreError.invalid("the lease of tenant \(tenantID) vanished while it was taken")
            }
            return .acquired(taken)
        }
    }

    public func releaseLease(tenantID: String, nodeID: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM tenant_leases WHERE tenant_id = ? AND node_id = ?", arguments: [tenantID, nodeID])
        }
    }

    public func listLeases() async throws -> [TenantLease] {
        let now = Self.milliseconds(Date())
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT tenant_id FROM tenant_leases ORDER BY tenant_id").compactMap { row in
                try Self.fetchLease(db, tenantID: row["tenant_id"], now: now)
            }
        }
    }

    private static func fetchLease(_ db: Database, tenantID: String, now: Int64) throws -> TenantLease? {
        try Row.fetchOne(db, sql: """
            SELECT l.*, n.advertise FROM tenant_leases l LEFT JOIN nodes n ON n.id = l.node_id WHERE l.tenant_id = ?
            """, arguments: [tenantID]).map { row in
            let expires: Int64 = row["expires_at"]
            return TenantLease(tenantID: row["tenant_id"], nodeID: row["node_id"], advertise: row["advertise"],
                               acquiredAt: date(row["acquired_at"]), expiresAt: date(expires), remainingMs: expires - now)
        }
    }
}
