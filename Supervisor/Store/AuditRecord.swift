import Foundation

/// One line of the audit log: a policy decision before a call, or an
/// operator's action on it. Records are append-only; `id` orders them.
public struct AuditRecord: Codable, Sendable, Equatable {
    /// Assigned by the store on append; 0 before that.
    public var id: Int64
    public var time: Date
    /// What happened: `decision`, `approval.approved`, `approval.denied`, `approval.expired`, `policy.reload`.
    public var event: String
    public var tenantID: String?
    public var tool: String?
    /// SHA-256 (hex) of the policy input, so a decision can be matched to what was asked
    /// without the log holding the tenant's code.
    public var inputDigest: String?
    /// `allow`, `deny`, `approval_required` or `error` for decisions; the outcome for other events.
    public var decision: String
    public var reasons: [String]
    public var requestID: String?
    /// Who caused the event when it was not a tenant's call (`uid 0`).
    public var actor: String?

    public init(id: Int64 = 0, time: Date, event: String, tenantID: String?, tool: String?, inputDigest: String?,
                decision: String, reasons: [String], requestID: String?, actor: String? = nil) {
        self.id = id
        self.time = time
        self.event = event
        self.tenantID = tenantID
        self.tool = tool
        self.inputDigest = inputDigest
        self.decision = decision
        self.reasons = reasons
        self.requestID = requestID
        self.actor = actor
    }

    enum CodingKeys: String, CodingKey {
        case id, time, event, tool, decision, reasons, actor
        case tenantID = "tenant_id"
        case inputDigest = "input_digest"
        case requestID = "request_id"
    }
}

/// Which audit records to read.
public struct AuditQuery: Sendable, Equatable {
    public var tenantID: String?
    public var since: Date?
    public var until: Date?
    /// Only records with an id above this one (for following the log).
    public var afterID: Int64?
    /// At most this many records: the newest ones, returned oldest first.
    public var limit: Int

    public init(tenantID: String? = nil, since: Date? = nil, until: Date? = nil, afterID: Int64? = nil, limit: Int = 100) {
        self.tenantID = tenantID
        self.since = since
        self.until = until
        self.afterID = afterID
        self.limit = limit
    }
}
