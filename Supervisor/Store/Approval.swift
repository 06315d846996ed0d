import Foundation

/// A call the policy held for a person to decide. It keeps what is needed to
/// run the call later, and once run, its result.
public struct Approval: Codable, Sendable, Equatable {
    public var id: String
    public var tenantID: String
    public var tool: String
    public var status: ApprovalStatus
    /// The request id of the call that asked; the run after approval reuses it.
    public var requestID: String
    /// The reasons the policy gave, shown to the operator.
    public var reasons: [String]
    /// The deferred call (tool-specific JSON); not shown to tenants.
    public var call: Data
    public var createdAt: Date
    public var expiresAt: Date
    public var decidedAt: Date?
    public var decidedBy: String?
    public var decisionNote: String?
    /// HTTP status and JSON body of the call's outcome once it ran.
    public var resultStatus: Int?
    public var result: Data?

    public init(id: String, tenantID: String, tool: String, status: ApprovalStatus, requestID: String,
                reasons: [String], call: Data, createdAt: Date, expiresAt: Date, decidedAt: Date? = nil,
                decidedBy: String? = nil, decisionNote: String? = nil, resultStatus: Int? = nil, result: Data? = nil) {
        self.id = id
        self.tenantID = tenantID
        self.tool = tool
        self.status = status
        self.requestID = requestID
        self.reasons = reasons
        self.call = call
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.decidedAt = decidedAt
        self.decidedBy = decidedBy
        self.decisionNote = decisionNote
        self.resultStatus = resultStatus
        self.result = result
    }

    public static let idPrefix = "ap_"

    public static func newID() -> String { idPrefix + RandomID.string(length: 16) }
}

/// pending → approved → running → completed | failed; pending → denied | expired.
public enum ApprovalStatus: String, Codable, Sendable, CaseIterable {
    case pending
    case approved
    case running
    case completed
    case failed
    case denied
    case expired

    /// No further change happens from these.
    public var isFinal: Bool { [.completed, .failed, .denied, .expired].contains(self) }
}

/// A change of an approval's state, applied only if it is still in one of `from`.
public struct ApprovalTransition: Sendable {
    public var from: Set<ApprovalStatus>
    public var to: ApprovalStatus
    public var decidedBy: String?
    public var decisionNote: String?
    public var resultStatus: Int?
    public var result: Data?
    public var at: Date

    public init(from: Set<ApprovalStatus>, to: ApprovalStatus, at: Date = Date(), decidedBy: String? = nil,
                decisionNote: String? = nil, resultStatus: Int? = nil, result: Data? = nil) {
        self.from = from
        self.to = to
        self.at = at
        self.decidedBy = decidedBy
        self.decisionNote = decisionNote
        self.resultStatus = resultStatus
        self.result = result
    }
}

extension Approval {
    /// The approval after `transition`, or `.conflict` naming the status it is
    /// in when that is not one of `transition.from`. Back ends call this with
    /// the row locked and write back what it returns.
    func applying(_ transition: ApprovalTransition) throws -> Approval {
        guard transition.from.contains(status) else {
            throw StoreError.conflict("approval \(id) is \(status.rawValue)")
        }
        var next = self
        next.status = transition.to
        if [.approved, .denied, .expired].contains(transition.to) {
            // Millisecond precision, as every stored time.
            next.decidedAt = Date(timeIntervalSince1970: (transition.at.timeIntervalSince1970 * 1000).rounded() / 1000)
            next.decidedBy = transition.decidedBy ?? decidedBy
            next.decisionNote = transition.decisionNote ?? decisionNote
        }
        if let status = transition.resultStatus { next.resultStatus = status }
        if let result = transition.result { next.result = result }
        return next
    }
}
