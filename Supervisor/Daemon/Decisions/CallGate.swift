import Foundation
import Hummingbird
import NIOCore
import Policy
import Store

/// Step 2 of every call (DESIGN.md): the policy decides before anything runs,
/// and the decision is in the audit log before the call runs.
struct CallGate: Sendable {
    let engine: PolicyEngine
    let audit: AuditWriter
    let approvals: ApprovalService
    let metrics: ServiceMetrics

    /// What the gate let through: a call that may run once its decision is in
    /// the audit log, or an answer (202) for a held call.
    enum Admission: Sendable {
        /// Await `audited` before the call runs: no call runs unaudited. The
        /// write is started, not awaited, so it can share a commit with the
        /// call's reservation.
        case allowed(audited: Task<Void, any Error>)
        case held(Response)
    }

    /// Throws 403 with the policy's reasons on a deny, and 503 when a deny or
    /// hold cannot be recorded.
    func admit(tenant: Tenant, tool: String, args: [String: Value], usage: [String: Value], requestID: String,
               deferred: () throws -> DeferredCall) async throws -> Admission {
        let input = DecisionInput.make(tenant: tenant, tool: tool, args: args, usage: usage)
        let started = ContinuousClock.now
        let decision = engine.decide(input)
        metrics.decision(decision.outcome.rawValue, duration: ContinuousClock.now - started)
        let record = AuditRecord(time: Date(), event: "decision", tenantID: tenant.id, tool: tool,
                                 inputDigest: SHA256Hasher.hex(of: input.jsonText()),
                                 decision: decision.outcome.rawValue, reasons: decision.reasons, requestID: requestID)
        let audit = self.audit
        if decision.outcome == .allow {
            return .allowed(audited: Task { try await Self.recorded { try await audit.append(record) } })
        }
        try await Self.recorded { try await audit.append(record) }
        switch decision.outcome {
        case .allow, .deny:
            throw APIError(.forbidden, code: "policy_denied", message: decision.reasons.joined(separator: "; "),
                           reasons: decision.reasons)
        case .error:
            throw APIError(.forbidden, code: "policy_error", message: decision.reasons.joined(separator: "; "),
                           reasons: decision.reasons)
        case .approvalRequired:
            let approval = try await approvals.hold(tenant: tenant, tool: tool, reasons: decision.reasons,
                                                    requestID: requestID, deferred: try deferred())
            return .held(try Self.held(approval))
        }
    }

    /// An audit write, with its failure said in the API's terms.
    static func recorded(_ write: () async throws -> Void) async throws {
        do {
            try await write()
        } catch {
            throw APIError.unavailable(code: "audit_unavailable",
                                       "the decision could not be written to the audit log; the call did not run")
        }
    }

    /// A soft limit passed is allowed, and written down.
    func recordWarnings(_ warnings: [QuotaWarning], tenant: Tenant, tool: String, requestID: String) async {
        let reasons = warnings.map { "\($0.metric) at \(CallPipeline.number($0.used)) passes its soft limit of \(CallPipeline.number($0.limit))" }
        try? await audit.append(AuditRecord(time: Date(), event: "quota.soft_limit", tenantID: tenant.id, tool: tool,
                                            inputDigest: nil, decision: "warn", reasons: reasons, requestID: requestID))
    }

    /// 202 Accepted, pointing at where the outcome will be.
    static func held(_ approval: Approval) throws -> Response {
        let location = "/v1/approvals/\(approval.id)"
        let body: [String: Any] = [
            "approval_id": approval.id, "status": approval.status.rawValue, "reasons": approval.reasons,
            "request_id": approval.requestID, "location": location,
            "expires_at": ISO8601DateFormatter().string(from: approval.expiresAt),
        ]
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(status: .accepted,
                        headers: [.contentType: "application/json; charset=utf-8", .location: location],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
