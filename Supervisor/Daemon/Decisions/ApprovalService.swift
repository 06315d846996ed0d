import Foundation
import Hummingbird
import Logging
import Store
import Synchronization
import WorkerProtocol

/// Calls held for a person: created when the policy asks for approval,
/// decided by operators (`warden approvals`), then run once, with the result
/// kept for the tenant to fetch from `GET /v1/approvals/{id}`.
final class ApprovalService: Sendable {
    let store: any Store
    let audit: AuditWriter
    let call: WorkerCall?
    let meter: Meter
    /// How long a held call waits for a decision before it expires.
    let timeToLive: Duration
    let logger: Logger
    /// Approved calls with the network go through it (set once the proxy exists, which needs the gate, which needs this).
    private let egress = Mutex<EgressProxy?>(nil)
    /// An approved call runs on the node that serves its tenant.
    let leases: TenantLeases?
    /// Approvals this node is running now: a chore never starts one twice.
    private let running = Mutex<Set<String>>([])

    init(store: any Store, audit: AuditWriter, call: WorkerCall?, meter: Meter, timeToLive: Duration, logger: Logger,
         leases: TenantLeases? = nil) {
        self.leases = leases
        self.store = store
        self.audit = audit
        self.call = call
        self.meter = meter
        self.timeToLive = timeToLive
        self.logger = logger
    }

    func use(egress proxy: EgressProxy?) {
        egress.withLock { $0 = proxy }
    }

    func hold(tenant: Tenant, tool: String, reasons: [String], requestID: String, deferred: DeferredCall) async throws -> Approval {
        let now = Date()
        let (seconds, _) = timeToLive.components
        let approval = Approval(id: Approval.newID(), tenantID: tenant.id, tool: tool, status: .pending,
                                requestID: requestID, reasons: reasons, call: try deferred.encoded(),
                                createdAt: now, expiresAt: now.addingTimeInterval(Double(seconds)))
        try await store.createApproval(approval)
        logger.info("call held for approval", metadata: ["approval_id": "\(approval.id)", "tenant_id": "\(tenant.id)",
                                                         "tool": "\(tool)"])
        return try await store.approval(id: approval.id) ?? approval
    }

    /// The approval, expired first if its time is up.
    func get(_ id: String) async throws -> Approval? {
        guard let approval = try await store.approval(id: id) else { return nil }
        return try await expireIfDue(approval)
    }

    func list(tenantID: String?, status: ApprovalStatus?, limit: Int) async throws -> [Approval] {
        var approvals: [Approval] = []
        for approval in try await store.listApprovals(tenantID: tenantID, status: status, limit: limit) {
            approvals.append(try await expireIfDue(approval))
        }
        return status.map { wanted in approvals.filter { $0.status == wanted } } ?? approvals
    }

    /// Waits until the approval is final (or `timeout` passes) and returns it as it is then.
    /// Polls the store, which is what every node sees.
    func wait(_ id: String, timeout: Duration) async throws -> Approval? {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: timeout)
        while true {
            guard let approval = try await get(id) else { return nil }
            if approval.status.isFinal || clock.now >= end { return approval }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    func approve(_ id: String, by actor: String, note: String?) async throws -> Approval {
        try await decide(id, to: .approved, by: actor, note: note)
    }

    func deny(_ id: String, by actor: String, note: String?) async throws -> Approval {
        try await decide(id, to: .denied, by: actor, note: note)
    }

    private func decide(_ id: String, to status: ApprovalStatus, by actor: String, note: String?) async throws -> Approval {
        guard let current = try await get(id) else { throw StoreError.notFound("no approval with id \(id)") }
        guard current.status == .pending else {
            throw StoreError.conflict("approval \(id) is already \(current.status.rawValue)")
        }
        let decided = try await store.transitionApproval(
            id: id, ApprovalTransition(from: [.pending], to: status, decidedBy: actor, decisionNote: note))
        try await audit.append(AuditRecord(
            time: Date(), event: "approval.\(status.rawValue)", tenantID: decided.tenantID, tool: decided.tool,
            inputDigest: nil, decision: status.rawValue, reasons: note.map { [$0] } ?? [], requestID: decided.requestID,
            actor: actor))
        logger.info("approval decided", metadata: ["approval_id": "\(id)", "status": "\(status.rawValue)", "by": "\(actor)"])
        if status == .approved {
            Task { await self.runHere(decided) }
        }
        return decided
    }

    /// Runs an approved call if this node serves its tenant (holds its lease or
    /// takes it now). Otherwise the call stays approved, and the node that
    /// serves the tenant picks it up (`runWaiting`).
    private func runHere(_ approval: Approval) async {
        if let leases {
            guard let route = try? await leases.route(approval.tenantID) else { return }
            if case .elsewhere(let lease) = route {
                logger.info("approved call left to the node serving its tenant",
                            metadata: ["approval_id": "\(approval.id)", "node": "\(lease.nodeID)"])
                return
            }
        }
        guard running.withLock({ $0.insert(approval.id).inserted }) else { return }
        defer { _ = running.withLock { $0.remove(approval.id) } }
        await run(approval)
    }

    /// Runs the approved calls waiting for a node that serves their tenant.
    func runWaiting() async {
        guard let waiting = try? await store.listApprovals(tenantID: nil, status: .approved, limit: 1000) else { return }
        for approval in waiting {
            Task { await self.runHere(approval) }
        }
    }

    /// Runs an approved call once and records its outcome.
    private func run(_ approval: Approval) async {
        do {
            _ = try await store.transitionApproval(id: approval.id, ApprovalTransition(from: [.approved], to: .running))
        } catch {
            return  // no longer approved: another node runs it, or it was settled
        }
        let outcome: (status: Int, body: Data)
        do {
            outcome = try await execute(approval)
        } catch let error as APIError {
            outcome = (Int(error.status.code), Self.errorBody(error.code, error.message))
        } catch {
            logger.error("approved call failed", metadata: ["approval_id": "\(approval.id)", "error": "\(error)"])
            outcome = (500, Self.errorBody("internal", "the approved call failed: \(error)"))
        }
        let final: ApprovalStatus = (200..<300).contains(outcome.status) ? .completed : .failed
        do {
            _ = try await store.transitionApproval(
                id: approval.id, ApprovalTransition(from: [.approved, .running], to: final,
                                                    resultStatus: outcome.status, result: outcome.body))
        } catch {
            logger.error("approved call's result could not be stored",
                         metadata: ["approval_id": "\(approval.id)", "error": "\(error)"])
        }
    }

    private func execute(_ approval: Approval) async throws -> (status: Int, body: Data) {
        let deferred = try DeferredCall.decode(approval.call)
        if deferred.needsWorker && call == nil {
            throw APIError.unavailable(code: "workers_disabled", "this server runs no workers")
        }
        guard let tenant = try await store.tenant(id: approval.tenantID), tenant.status == .active else {
            throw APIError.forbidden(code: "tenant_suspended", "tenant \(approval.tenantID) is no longer active")
        }
        // An exec held with the network gets it when it runs, through the same proxy.
        var session: EgressSession?
        if deferred.usesNetwork {
            guard let proxy = egress.withLock({ $0 }) else {
                if !deferred.needsWorker {
                    throw APIError.unavailable(code: "egress_disabled", "this server runs without the egress proxy (egress.enabled), so it fetches nothing")
                }
                throw APIError.invalidField("network must be false: this server runs without the egress proxy (egress.enabled)")
            }
            session = proxy.session(tenant: tenant, via: Metric.family(ofTool: approval.tool), requestID: approval.requestID)
        }
        // The call ends it; this covers the paths where the call never went out.
        defer { if let session { Task { await session.close() } } }
        // Quotas apply when the call runs, not when it was held.
        let limits = try await meter.limits(for: tenant)
        guard case .reserved(let ticket) = try await meter.reserve(
            tenant: tenant, tool: approval.tool, requestID: approval.requestID,
            idempotencyKey: "approval:\(approval.id)", limits: limits, egress: session != nil)
        else {
            throw APIError.conflict("approval \(approval.id) already ran")
        }
        let proxy = egress.withLock { $0 }
        return try await meter.finish(ticket) {
            let result = try await self.run(deferred, tenant: tenant, requestID: approval.requestID, call: self.call,
                                            proxy: proxy, egress: session)
            return (result, Meter.Outcome(status: "ok", httpStatus: result.status, ran: true,
                                          figures: CallFigures(egressBytes: session?.bytes ?? 0), response: nil))
        }
    }

    private func run(_ deferred: DeferredCall, tenant: Tenant, requestID: String, call: WorkerCall?,
                     proxy: EgressProxy?, egress: EgressSession?) async throws -> (status: Int, body: Data) {
        var streamed: [UInt8] = []
        var payload: [UInt8] = []
        for step in deferred.steps {
            if step.isFetch, let proxy, let egress {
                // A fetch has one step; its answer carries the request id already.
                let request = try JSONDecoder().decode(FetchRequest.self, from: JSONEncoder().encode(step.args))
                let transfer = try request.checked(maxTimeoutMs: request.timeoutMs ?? FetchRequest.defaultTimeoutMs)
                let (body, _) = try await FetchController.run(transfer, proxy: proxy, session: egress,
                                                              requestID: requestID, client: nil)
                return (deferred.successStatus, body)
            }
            guard let tool = Tool(rawValue: step.tool), let call else {
                throw APIError.invalidRequest("the held call names an unknown tool '\(step.tool)'")
            }
            do {
                payload = try await call.run(tool, step.args, tenant: tenant, requestID: requestID,
                                             deadline: .milliseconds(deferred.deadlineMs),
                                             egress: step.usesNetwork ? egress : nil) { event in
                    if case .stdout(let chunk) = event, deferred.output != .json { streamed += chunk }
                }
            } catch let error as APIError {
                throw BrowserController.proxyRefusal(error, session: egress) ?? error
            }
        }
        switch deferred.output {
        case .json:
            return (deferred.successStatus, try ExecController.withRequestID(payload, requestID))
        case .streamedJSON:
            return (deferred.successStatus, try ExecController.withRequestID(streamed, requestID))
        case .bytes:
            let body: [String: Any] = ["content": Data(streamed).base64EncodedString(), "encoding": "base64",
                                       "size": streamed.count, "request_id": requestID]
            return (deferred.successStatus, try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]))
        }
    }

    /// After a restart, calls that were approved or running never finished: they are not
    /// run again (they may have had effects), and say so. Those of tenants that
    /// another live node serves are that node's, and left alone.
    func failInterrupted(servedElsewhere: Set<String> = []) async {
        do {
            for status in [ApprovalStatus.approved, .running] {
                for approval in try await store.listApprovals(tenantID: nil, status: status, limit: 10_000)
                where !servedElsewhere.contains(approval.tenantID) {
                    _ = try? await store.transitionApproval(
                        id: approval.id, ApprovalTransition(
                            from: [.approved, .running], to: .failed, resultStatus: 503,
                            result: Self.errorBody("interrupted",
                                                   "the server stopped while the approved call ran; it was not run again")))
                    logger.warning("approved call interrupted by a restart", metadata: ["approval_id": "\(approval.id)"])
                }
            }
        } catch {
            logger.error("interrupted approvals could not be closed", metadata: ["error": "\(error)"])
        }
    }

    private func expireIfDue(_ approval: Approval) async throws -> Approval {
        guard approval.status == .pending, Date() >= approval.expiresAt else { return approval }
        do {
            let expired = try await store.transitionApproval(id: approval.id, ApprovalTransition(from: [.pending], to: .expired))
            try await audit.append(AuditRecord(
                time: Date(), event: "approval.expired", tenantID: approval.tenantID, tool: approval.tool,
                inputDigest: nil, decision: "expired", reasons: ["no decision before \(approval.expiresAt)"],
                requestID: approval.requestID))
            return expired
        } catch StoreError.conflict {
            // Someone decided it at this very moment: theirs stands.
            return try await store.approval(id: approval.id) ?? approval
        }
    }

    static func errorBody(_ code: String, _ message: String) -> Data {
        (try? JSONCoding.encoder.encode(APIError.ErrorBody(error: .init(code: code, message: message)))) ?? Data()
    }
}
