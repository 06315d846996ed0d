import Foundation

/// What one call adds to one metric in one period, with the limit it must respect.
public struct Charge: Codable, Sendable, Equatable {
    public var metric: String
    /// Start of the counter's period; nil for gauges.
    public var periodStart: Date?
    /// When the period ends (what a 429 reports as `resets_at`).
    public var periodEnd: Date?
    public var amount: Double
    public var limit: Limit?

    public init(metric: String, periodStart: Date?, periodEnd: Date?, amount: Double, limit: Limit?) {
        self.metric = metric
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.amount = amount
        self.limit = limit
    }

    enum CodingKeys: String, CodingKey {
        case metric, amount, limit
        case periodStart = "period_start"
        case periodEnd = "period_end"
    }
}

/// A call asking to run: what it will count, checked and held atomically.
public struct ReservationRequest: Sendable {
    public var id: String
    public var tenantID: String
    public var tool: String
    public var requestID: String
    /// A retried request with the same key is never counted twice.
    public var idempotencyKey: String
    public var at: Date
    public var charges: [Charge]
    /// `concurrent.calls`: open reservations of the tenant.
    public var concurrentLimit: Limit?
    /// The node that runs the call: if it dies, another settles the reservation.
    public var nodeID: String?

    public init(id: String, tenantID: String, tool: String, requestID: String, idempotencyKey: String, at: Date,
                charges: [Charge], concurrentLimit: Limit?, nodeID: String? = nil) {
        self.id = id
        self.nodeID = nodeID
        self.tenantID = tenantID
        self.tool = tool
        self.requestID = requestID
        self.idempotencyKey = idempotencyKey
        self.at = at
        self.charges = charges
        self.concurrentLimit = concurrentLimit
    }
}

/// A hard limit the call would pass.
public struct QuotaExceeded: Error, Sendable, Equatable, Codable {
    public var metric: String
    public var limit: Double
    public var used: Double
    public var resetsAt: Date?

    public init(metric: String, limit: Double, used: Double, resetsAt: Date?) {
        self.metric = metric
        self.limit = limit
        self.used = used
        self.resetsAt = resetsAt
    }
}

/// A soft limit the call passes (allowed, with a warning).
public struct QuotaWarning: Sendable, Equatable, Codable {
    public var metric: String
    public var limit: Double
    public var used: Double
}

public enum ReservationOutcome: Sendable, Equatable {
    case reserved(warnings: [QuotaWarning])
    case exceeded(QuotaExceeded)
    /// The idempotency key already ran: here is its record.
    case duplicate(LedgerRecord)
    /// The idempotency key is running now.
    case inProgress
}

/// The measured figures of a call.
public struct CallFigures: Codable, Sendable, Equatable {
    public var cpuMs: Int64 = 0
    public var wallMs: Int64 = 0
    public var memoryPeakBytes: Int64 = 0
    public var bytesIn: Int64 = 0
    public var bytesOut: Int64 = 0
    public var egressBytes: Int64 = 0

    public init(cpuMs: Int64 = 0, wallMs: Int64 = 0, memoryPeakBytes: Int64 = 0, bytesIn: Int64 = 0, bytesOut: Int64 = 0,
                egressBytes: Int64 = 0) {
        self.cpuMs = cpuMs
        self.wallMs = wallMs
        self.memoryPeakBytes = memoryPeakBytes
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.egressBytes = egressBytes
    }

    enum CodingKeys: String, CodingKey {
        case cpuMs = "cpu_ms"
        case wallMs = "wall_ms"
        case memoryPeakBytes = "memory_peak_bytes"
        case bytesIn = "bytes_in"
        case bytesOut = "bytes_out"
        case egressBytes = "egress_bytes"
    }
}

/// The end of a call: release its reservation, count what it used, and write
/// its ledger record, in one transaction.
public struct Settlement: Sendable {
    public var reservationID: String
    public var endedAt: Date
    /// `ok`, `exited_nonzero`, … for calls that ran; an error code otherwise.
    public var status: String
    public var httpStatus: Int
    public var figures: CallFigures
    /// Whether the reserved counts (calls) become used: false when the call never started.
    public var ran: Bool
    /// Measured amounts (CPU seconds, wall seconds, egress bytes) added on top.
    public var measured: [Charge]
    public var decision: String
    /// The response body, replayed to a retry with the same idempotency key.
    public var response: Data?

    public init(reservationID: String, endedAt: Date, status: String, httpStatus: Int, figures: CallFigures, ran: Bool,
                measured: [Charge], decision: String, response: Data?) {
        self.reservationID = reservationID
        self.endedAt = endedAt
        self.status = status
        self.httpStatus = httpStatus
        self.figures = figures
        self.ran = ran
        self.measured = measured
        self.decision = decision
        self.response = response
    }
}

/// A counter crossing 80 % or 100 % of its limit: an alert.
public struct ThresholdCrossing: Sendable, Equatable, Codable {
    public var tenantID: String
    public var metric: String
    public var limit: Double
    public var used: Double
    /// 0.8 or 1.0.
    public var threshold: Double

    enum CodingKeys: String, CodingKey {
        case metric, limit, used, threshold
        case tenantID = "tenant_id"
    }
}

/// One call in the append-only usage ledger.
public struct LedgerRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var tenantID: String
    public var tool: String
    public var requestID: String
    public var idempotencyKey: String
    public var startedAt: Date
    public var endedAt: Date
    public var status: String
    public var httpStatus: Int
    public var figures: CallFigures
    public var decision: String
    /// Kept for idempotent replays; not part of listings.
    public var response: Data?

    enum CodingKeys: String, CodingKey {
        case id, tool, status, figures, decision
        case tenantID = "tenant_id"
        case requestID = "request_id"
        case idempotencyKey = "idempotency_key"
        case startedAt = "started_at"
        case endedAt = "ended_at"
        case httpStatus = "http_status"
    }

    public init(id: Int64, tenantID: String, tool: String, requestID: String, idempotencyKey: String, startedAt: Date,
                endedAt: Date, status: String, httpStatus: Int, figures: CallFigures, decision: String, response: Data?) {
        self.id = id
        self.tenantID = tenantID
        self.tool = tool
        self.requestID = requestID
        self.idempotencyKey = idempotencyKey
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.status = status
        self.httpStatus = httpStatus
        self.figures = figures
        self.decision = decision
        self.response = response
    }
}

/// A reservation still open: its call is running, or the process that ran it died.
public struct OpenReservation: Sendable, Equatable {
    public var id: String
    public var tenantID: String
    public var tool: String
    public var requestID: String
    public var startedAt: Date
    /// The node that reserved it (nil: written before nodes were recorded).
    public var nodeID: String?
}

/// A counter's value in one period.
public struct CounterValue: Codable, Sendable, Equatable {
    public var metric: String
    public var periodStart: Date?
    public var used: Double
    public var reserved: Double

    enum CodingKeys: String, CodingKey {
        case metric, used, reserved
        case periodStart = "period_start"
    }
}

public struct LedgerQuery: Sendable, Equatable {
    public var tenantID: String?
    public var since: Date?
    public var until: Date?
    public var limit: Int

    public init(tenantID: String? = nil, since: Date? = nil, until: Date? = nil, limit: Int = 100_000) {
        self.tenantID = tenantID
        self.since = since
        self.until = until
        self.limit = limit
    }
}
