import Foundation

/// One `warden serve` process sharing the store with others, as the store
/// keeps it: registered at start, refreshed by its heartbeats.
///
/// Times come from the store's clock (PostgreSQL's on a shared store), so
/// nodes on machines whose clocks disagree still agree on ages and expiries.
public struct NodeRecord: Codable, Sendable, Equatable {
    public var id: String
    /// Where other nodes send the calls of tenants this node holds (`http://host:port`).
    public var advertise: String?
    /// Changes with every start: tells a restarted node from the process it replaced.
    public var incarnation: String
    public var startedAt: Date
    public var heartbeatAt: Date
    /// The node's lease time-to-live: it counts as dead once its heartbeat is older.
    public var leaseTTLMs: Int64
    public var state: NodeState
    public var workersRunning: Int
    public var callsInFlight: Int
    /// Unexpired tenant leases it holds.
    public var leases: Int
    /// How long ago its last heartbeat was, on the store's clock.
    public var heartbeatAgeMs: Int64

    public init(id: String, advertise: String?, incarnation: String, startedAt: Date, heartbeatAt: Date, leaseTTLMs: Int64,
                state: NodeState, workersRunning: Int, callsInFlight: Int, leases: Int, heartbeatAgeMs: Int64) {
        self.id = id
        self.advertise = advertise
        self.incarnation = incarnation
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.leaseTTLMs = leaseTTLMs
        self.state = state
        self.workersRunning = workersRunning
        self.callsInFlight = callsInFlight
        self.leases = leases
        self.heartbeatAgeMs = heartbeatAgeMs
    }

    enum CodingKeys: String, CodingKey {
        case id, advertise, incarnation, state, leases
        case startedAt = "started_at"
        case heartbeatAt = "heartbeat_at"
        case leaseTTLMs = "lease_ttl_ms"
        case workersRunning = "workers_running"
        case callsInFlight = "calls_in_flight"
        case heartbeatAgeMs = "heartbeat_age_ms"
    }

    /// Validates an operator-chosen node id: it is typed, logged and sent in headers.
    public static func validate(id: String) throws {
        let allowed = id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        guard (1...64).contains(id.utf8.count), allowed else {
            throw StoreError.invalid("node id '\(id)' must be 1 to 64 letters, digits, '.', '-' or '_'")
        }
    }
}

/// `live` while its heartbeat is younger than its lease TTL, `dead` after,
/// `left` once it stopped gracefully (its leases released).
public enum NodeState: String, Codable, Sendable, CaseIterable {
    case live
    case dead
    case left

    /// The state of a node that did not leave, from its heartbeat's age.
    static func of(left: Bool, heartbeatAgeMs: Int64, leaseTTLMs: Int64) -> NodeState {
        if left { return .left }
        return heartbeatAgeMs <= leaseTTLMs ? .live : .dead
    }
}

/// What a node says of itself when it starts.
public struct NodeRegistration: Sendable, Equatable {
    public var id: String
    public var incarnation: String
    public var advertise: String?
    public var leaseTTLMs: Int64
    /// Take the id even when another process heartbeated under it within its TTL
    /// (SQLite: the state directory's lock already proves that process is gone).
    public var takeOver: Bool

    public init(id: String, incarnation: String, advertise: String?, leaseTTLMs: Int64, takeOver: Bool = false) {
        self.id = id
        self.incarnation = incarnation
        self.advertise = advertise
        self.leaseTTLMs = leaseTTLMs
        self.takeOver = takeOver
    }
}

public enum NodeRegistrationOutcome: Sendable, Equatable {
    case registered
    /// Another process runs (or ran until `heartbeatAgeMs` ago) under this id; it
    /// counts as dead once the age passes `leaseTTLMs`. Try again then.
    case stillLive(heartbeatAgeMs: Int64, leaseTTLMs: Int64)
}

/// A node's periodic proof of life, which also renews the leases it names.
public struct NodeHeartbeat: Sendable, Equatable {
    public var nodeID: String
    public var incarnation: String
    /// nil keeps the address the node has: a heartbeat that started before the
    /// address was known must not erase it.
    public var advertise: String?
    public var leaseTTLMs: Int64
    public var workersRunning: Int
    public var callsInFlight: Int
    /// The tenants whose leases the node holds and renews; others of its leases are left to expire.
    public var tenantIDs: [String]

    public init(nodeID: String, incarnation: String, advertise: String?, leaseTTLMs: Int64, workersRunning: Int,
                callsInFlight: Int, tenantIDs: [String]) {
        self.nodeID = nodeID
        self.incarnation = incarnation
        self.advertise = advertise
        self.leaseTTLMs = leaseTTLMs
        self.workersRunning = workersRunning
        self.callsInFlight = callsInFlight
        self.tenantIDs = tenantIDs
    }
}

/// A lease the heartbeat renewed, with its tenant's status now (a suspended
/// or deleted tenant's worker is stopped by the node that holds it).
public struct RenewedLease: Sendable, Equatable {
    public var tenantID: String
    public var tenantStatus: TenantStatus?

    public init(tenantID: String, tenantStatus: TenantStatus?) {
        self.tenantID = tenantID
        self.tenantStatus = tenantStatus
    }
}

/// The right to run a tenant's worker: one node at a time holds it, until it
/// releases it or `expiresAt` passes without a renewal.
public struct TenantLease: Codable, Sendable, Equatable {
    public var tenantID: String
    public var nodeID: String
    /// The holder's advertised address, when its node row has one.
    public var advertise: String?
    public var acquiredAt: Date
    public var expiresAt: Date
    /// Time left until it expires, on the store's clock (negative: expired).
    public var remainingMs: Int64

    public init(tenantID: String, nodeID: String, advertise: String?, acquiredAt: Date, expiresAt: Date, remainingMs: Int64) {
        self.tenantID = tenantID
        self.nodeID = nodeID
        self.advertise = advertise
        self.acquiredAt = acquiredAt
        self.expiresAt = expiresAt
        self.remainingMs = remainingMs
    }

    enum CodingKeys: String, CodingKey {
        case advertise
        case tenantID = "tenant_id"
        case nodeID = "node_id"
        case acquiredAt = "acquired_at"
        case expiresAt = "expires_at"
        case remainingMs = "remaining_ms"
    }
}

public enum LeaseOutcome: Sendable, Equatable {
    /// Taken or renewed by the asking node.
    case acquired(TenantLease)
    /// Another node holds it and it has not expired.
    case held(TenantLease)
}
