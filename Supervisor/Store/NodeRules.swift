import Foundation

/// What the back ends share about nodes and leases, so they cannot disagree.
enum NodeSQL {
    /// Inserts or replaces the node's row. Placeholders: id, incarnation,
    /// advertise, started_at, heartbeat_at, lease_ttl_ms.
    static func register(placeholders p: [String]) -> String {
        """
        INSERT INTO nodes (id, incarnation, advertise, state, started_at, heartbeat_at, lease_ttl_ms,
                           workers_running, calls_in_flight)
        VALUES (\(p[0]), \(p[1]), \(p[2]), 'up', \(p[3]), \(p[4]), \(p[5]), 0, 0)
        ON CONFLICT (id) DO UPDATE SET incarnation = excluded.incarnation, advertise = excluded.advertise, state = 'up',
            started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, lease_ttl_ms = excluded.lease_ttl_ms,
            workers_running = 0, calls_in_flight = 0
        """
    }

    /// Tenant ids as a JSON array, the one list parameter both databases can unpack.
    static func jsonList(_ values: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
    }

    /// A live node cannot be forgotten: it would register again at its next heartbeat's failure.
    static func stillLive(_ node: NodeRecord) -> StoreError {
        .conflict("node \(node.id) is live (its last heartbeat was \(node.heartbeatAgeMs) ms ago, its TTL is \(node.leaseTTLMs) ms): stop it first, or wait until it is dead")
    }

    /// The heartbeat of a process whose node id was registered again by another, or whose row was forgotten.
    static func replaced(_ nodeID: String) -> StoreError {
        .conflict("node \(nodeID) was registered again by another process, or forgotten by an operator: its leases are no longer this one's")
    }
}

extension NodeRegistration {
    /// What stands in the way of registering over an existing row: another
    /// process under the same id whose heartbeat has not aged past its TTL.
    func blocked(byState state: String, incarnation other: String, heartbeatAgeMs: Int64,
                 leaseTTLMs: Int64) -> NodeRegistrationOutcome? {
        guard !takeOver, state == "up", other != incarnation, heartbeatAgeMs <= leaseTTLMs else { return nil }
        return .stillLive(heartbeatAgeMs: heartbeatAgeMs, leaseTTLMs: leaseTTLMs)
    }
}
