import Foundation
import Store
import WorkerProtocol

/// An approval as the APIs show it: the held call itself stays private, its
/// result is embedded as JSON once it ran.
public struct ApprovalView: Codable, Sendable, Equatable {
    public var id: String
    public var tenantID: String
    public var tool: String
    public var status: ApprovalStatus
    public var requestID: String
    public var reasons: [String]
    public var createdAt: Date
    public var expiresAt: Date
    public var decidedAt: Date?
    public var decidedBy: String?
    public var note: String?
    public var resultStatus: Int?
    public var result: JSONValue?

    init(_ approval: Approval) {
        id = approval.id
        tenantID = approval.tenantID
        tool = approval.tool
        status = approval.status
        requestID = approval.requestID
        reasons = approval.reasons
        createdAt = approval.createdAt
        expiresAt = approval.expiresAt
        decidedAt = approval.decidedAt
        decidedBy = approval.decidedBy
        note = approval.decisionNote
        resultStatus = approval.resultStatus
        result = approval.result.flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) }
    }

    enum CodingKeys: String, CodingKey {
        case id, tool, status, reasons, note, result
        case tenantID = "tenant_id"
        case requestID = "request_id"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case decidedAt = "decided_at"
        case decidedBy = "decided_by"
        case resultStatus = "result_status"
    }
}
