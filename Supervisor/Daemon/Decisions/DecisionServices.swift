import Foundation
import Logging
import Sandbox
import Store

/// The policy engine, the audit writer, approvals and the gate that uses
/// them, built together from the configuration.
struct DecisionServices: Sendable {
    let engine: PolicyEngine
    let audit: AuditWriter
    let approvals: ApprovalService
    let gate: CallGate
    let meter: Meter
    let pipeline: CallPipeline
    let metrics: ServiceMetrics
    let alerts: QuotaAlerts
    /// The egress proxy; nil when `egress.enabled` is off.
    let egress: EgressProxy?

    init(store: any Store, configuration: SupervisorConfiguration, workers: WorkerManager?, logger: Logger,
         now: @escaping @Sendable () -> Date = Date.init) throws {
        guard let found = configuration.policyDirectory ?? ProfileLocator.policiesDirectory() else {
            throw ConfigurationError(
                "no policies directory was found; pass --policies DIR (or policy.directory) pointing at Warden's policies/")
        }
        let directory = URL(fileURLWithPath: found).standardizedFileURL.path
        do {
            engine = try PolicyEngine(directory: directory, stepLimit: configuration.policyStepLimit,
                                      timeout: .milliseconds(configuration.policyTimeoutMs))
        } catch let error as PolicyReloadError {
            throw ConfigurationError("the policies in \(directory) do not load:\n\(error)")
        }
        let audit = AuditWriter(store: store, logger: logger)
        self.audit = audit
        let metrics = ServiceMetrics()
        self.metrics = metrics
        let alerts = QuotaAlerts(audit: audit, webhook: try WebhookSender(configuration: configuration, metrics: metrics,
                                                                          logger: logger),
                                 metrics: metrics, logger: logger)
        self.alerts = alerts
        meter = Meter(store: store, now: now, logger: logger, metrics: metrics, enabled: configuration.meteringEnabled) { crossings in
            await alerts.record(crossings)
        }
        approvals = ApprovalService(store: store, audit: audit, call: workers.map { WorkerCall(manager: $0) }, meter: meter,
                                    timeToLive: .milliseconds(Int64(configuration.approvalTTLSeconds * 1000)),
                                    logger: logger)
        gate = CallGate(engine: engine, audit: audit, approvals: approvals, metrics: metrics)
        pipeline = CallPipeline(gate: gate, meter: meter)
        egress = configuration.egressEnabled
            ? EgressProxy(gate: EgressGate(gate: gate, meter: meter), settings: EgressSettings(configuration: configuration),
                          metrics: metrics, logger: logger)
            : nil
        approvals.use(egress: egress)
    }

    /// Gives the policies the store's plans as `data.plans`.
    func publishPlans(_ store: any Store) async throws {
        meter.plans.invalidate()
        try engine.setPlans(PlanData.value(try await store.listPlans()))
    }

    /// Reloads the policies and records the attempt in the audit log; the old
    /// policies stay when the new ones do not load.
    func reloadPolicies(actor: String, logger: Logger) async throws -> PolicyEngine.Summary {
        do {
            let summary = try engine.reload()
            logger.notice("policies reloaded", metadata: ["files": "\(summary.files.count)", "digest": "\(summary.digest)"])
            try? await audit.append(AuditRecord(time: Date(), event: "policy.reload", tenantID: nil, tool: nil,
                                                inputDigest: summary.digest, decision: "ok", reasons: [],
                                                requestID: nil, actor: actor))
            return summary
        } catch let error as PolicyReloadError {
            logger.error("policy reload refused; the previous policies stay active", metadata: ["errors": "\(error)"])
            try? await audit.append(AuditRecord(time: Date(), event: "policy.reload", tenantID: nil, tool: nil,
                                                inputDigest: nil, decision: "refused",
                                                reasons: error.errors.map(\.text), requestID: nil, actor: actor))
            throw error
        }
    }
}
