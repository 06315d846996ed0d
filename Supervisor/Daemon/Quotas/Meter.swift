import Foundation
import Hummingbird
import Logging
import Policy
import Store

/// Step 3 and 8 of a call (DESIGN.md): reserve against the tenant's limits
/// before it runs, settle with the real figures after, and keep the ledger.
final class Meter: Sendable {
    let store: any Store
    let now: @Sendable () -> Date
    let logger: Logger
    let metrics: ServiceMetrics
    /// Plans change rarely and are read on every call.
    let plans = PlanCache()
    /// Off: no quota is checked and nothing is recorded (benchmarks of what metering costs).
    let enabled: Bool
    /// Called with each 80 % / 100 % crossing (audit event, webhook).
    let onCrossing: @Sendable ([ThresholdCrossing]) async -> Void

    init(store: any Store, now: @escaping @Sendable () -> Date, logger: Logger, metrics: ServiceMetrics, enabled: Bool = true,
         onCrossing: @escaping @Sendable ([ThresholdCrossing]) async -> Void = { _ in }) {
        self.enabled = enabled
        self.store = store
        self.now = now
        self.logger = logger
        self.metrics = metrics
        self.onCrossing = onCrossing
    }

    /// The tenant's plan and overrides. A plan missing from the store is an
    /// operator's mistake: the tenant's calls stop with a clear error.
    func limits(for tenant: Tenant) async throws -> EffectiveLimits {
        guard let plan = try await plans.plan(named: tenant.plan, from: store) else {
            throw APIError(.forbidden, code: "unknown_plan",
                           message: "tenant \(tenant.id) is on plan '\(tenant.plan)', which does not exist; ask the operator to fix it")
        }
        return EffectiveLimits(plan: plan, overrides: try await plans.overrides(of: tenant.id, from: store))
    }

    /// The plan's caps of the tenant's jail; none when the store cannot say (the server's defaults apply).
    func caps(for tenant: Tenant) async -> TenantCaps {
        guard let limits = try? await limits(for: tenant) else { return TenantCaps() }
        return TenantCaps(memoryMB: limits.ceiling(Metric.tenantMemoryMB).map { max(64, $0) },
                          pids: limits.ceiling(Metric.tenantPids).map { max(16, $0) },
                          cpus: limits[Metric.tenantCpus].map { max(0.01, $0.limit) },
                          storageBytes: limits.ceiling(Metric.storageBytes))
    }

    /// Every counter and gauge of the tenant now, as the policy input's `usage`.
    func usage(of tenant: Tenant, limits: EffectiveLimits) async throws -> [String: Value] {
        let windows = PeriodWindow.all(containing: now(), timeZone: limits.plan.timeZone)
        let keys = Metric.catalog.values.filter { $0.kind != .ceiling }
            .sorted { $0.name < $1.name }
            .map { spec in (spec.name, spec.period.flatMap { windows[$0]?.start }) }
        var usage: [String: Value] = [:]
        for value in try await store.counters(tenantID: tenant.id, keys) {
            usage[value.metric] = Value(value.used)
        }
        return usage
    }

    /// A reserved call; settle it exactly once.
    struct Ticket: Sendable {
        var reservationID: String
        var tenant: Tenant
        var tool: String
        var startedAt: Date
        /// For the latency histogram (the metering clock may be a test's).
        var started = ContinuousClock.now
        var limits: EffectiveLimits
        var warnings: [QuotaWarning]
    }

    enum Reservation: Sendable {
        case reserved(Ticket)
        /// The idempotency key already ran: answer as it was answered.
        case replay(Response)
    }

    /// The tenant's hard egress limit and what its counter holds now (used and
    /// reserved); nil when there is no hard limit, or metering is off.
    func egressStanding(of tenant: Tenant, limits: EffectiveLimits) async throws -> QuotaExceeded? {
        guard enabled, let limit = limits[Metric.egressBytes], limit.hard else { return nil }
        let window = PeriodWindow(.month, containing: now(), timeZone: limits.plan.timeZone)
        let counter = try await store.counters(tenantID: tenant.id, [(Metric.egressBytes, window.start)]).first
        return QuotaExceeded(metric: Metric.egressBytes, limit: limit.limit,
                             used: (counter?.used ?? 0) + (counter?.reserved ?? 0), resetsAt: window.end)
    }

    /// Reserves one call of `tool`; 429 with the metric, limit, used and reset time when a hard limit is reached.
    /// `egress`: the call goes through the egress proxy (fetch, browser, exec with the network), so it may
    /// start only while some of the egress quota is left.
    func reserve(tenant: Tenant, tool: String, requestID: String, idempotencyKey: String?,
                 limits: EffectiveLimits, egress: Bool = false) async throws -> Reservation {
        let at = now()
        guard enabled else {
            return .reserved(Ticket(reservationID: "", tenant: tenant, tool: tool, startedAt: at, limits: limits, warnings: []))
        }
        let family = Metric.family(ofTool: tool)
        let windows = PeriodWindow.all(containing: at, timeZone: limits.plan.timeZone)
        var charges: [Charge] = []
        func charge(_ metric: String, amount: Double) {
            guard let period = Metric.catalog[metric]?.period, let window = windows[period] else { return }
            charges.append(Charge(metric: metric, periodStart: window.start, periodEnd: window.end, amount: amount,
                                  limit: limits[metric]))
        }
        charge(Metric.calls(family, .day), amount: 1)
        charge(Metric.calls(family, .month), amount: 1)
        if family == "browser" { charge(Metric.browserSessions, amount: 1) }
        // Measured afterwards: a call may start while any of these is left.
        if family == "exec" {
            charge(Metric.cpuSeconds, amount: 0)
            charge(Metric.wallSeconds, amount: 0)
        }
        if egress || family == "fetch" || family == "browser" { charge(Metric.egressBytes, amount: 0) }

        let request = ReservationRequest(id: "res_" + RandomID.string(length: 16), tenantID: tenant.id, tool: tool,
                                         requestID: requestID, idempotencyKey: idempotencyKey ?? requestID, at: at,
                                         charges: charges, concurrentLimit: limits[Metric.concurrentCalls])
        switch try await store.reserve(request) {
        case .reserved(let warnings):
            return .reserved(Ticket(reservationID: request.id, tenant: tenant, tool: tool, startedAt: at, limits: limits,
                                    warnings: warnings))
        case .exceeded(let exceeded):
            metrics.quotaRefused(metric: exceeded.metric)
            throw Self.quotaError(exceeded, now: at)
        case .inProgress:
            throw APIError(.conflict, code: "duplicate_request",
                           message: "a request with Idempotency-Key '\(idempotencyKey ?? requestID)' is running now; wait for it")
        case .duplicate(let record):
            guard let body = record.response else {
                throw APIError(.conflict, code: "duplicate_request",
                               message: "Idempotency-Key '\(record.idempotencyKey)' already ran as request \(record.requestID) (status \(record.status)); it is counted once and its answer was not kept")
            }
            return .replay(Response(status: HTTPResponse.Status(code: record.httpStatus),
                                    headers: [.contentType: "application/json; charset=utf-8",
                                              HTTPFields.Element.Name("Idempotent-Replayed")!: "true"],
                                    body: .init(byteBuffer: ByteBuffer(bytes: body))))
        }
    }

    /// How the call ended.
    struct Outcome: Sendable {
        var status: String
        var httpStatus: Int
        var ran: Bool
        var figures = CallFigures()
        var response: Data?
        var decision = "allow"
    }

    /// Releases the reservation, counts what was used and writes the ledger
    /// record; returns once it is in the store, before the client is answered.
    func settle(_ ticket: Ticket, _ outcome: Outcome) async throws {
        guard enabled else {
            metrics.callFinished(tool: ticket.tool, outcome: outcome.status, duration: ContinuousClock.now - ticket.started)
            return
        }
        let at = now()
        var measured: [Charge] = []
        let windows = PeriodWindow.all(containing: ticket.startedAt, timeZone: ticket.limits.plan.timeZone)
        func add(_ metric: String, _ amount: Double) {
            guard amount > 0, let period = Metric.catalog[metric]?.period, let window = windows[period] else { return }
            measured.append(Charge(metric: metric, periodStart: window.start, periodEnd: window.end, amount: amount,
                                   limit: ticket.limits[metric]))
        }
        add(Metric.cpuSeconds, Double(outcome.figures.cpuMs) / 1000)
        add(Metric.wallSeconds, Double(outcome.figures.wallMs) / 1000)
        add(Metric.egressBytes, Double(outcome.figures.egressBytes))
        // Answers up to 1 MiB are kept for replays; larger ones are counted but not replayed.
        let response = outcome.response.flatMap { $0.count <= 1 << 20 ? $0 : nil }
        let crossings = try await store.settle(Settlement(
            reservationID: ticket.reservationID, endedAt: at, status: outcome.status, httpStatus: outcome.httpStatus,
            figures: outcome.figures, ran: outcome.ran, measured: measured, decision: outcome.decision,
            response: response))
        metrics.used(cpuSeconds: Double(outcome.figures.cpuMs) / 1000, wallSeconds: Double(outcome.figures.wallMs) / 1000,
                     egressBytes: outcome.figures.egressBytes)
        metrics.callFinished(tool: ticket.tool, outcome: outcome.status, duration: ContinuousClock.now - ticket.started)
        if !crossings.isEmpty { await onCrossing(crossings) }
    }

    /// Runs the call and settles its reservation however it ends.
    func finish<Result: Sendable>(_ ticket: Ticket, _ body: () async throws -> (Result, Outcome)) async throws -> Result {
        let result: Result
        let outcome: Outcome
        do {
            (result, outcome) = try await body()
        } catch let error as APIError {
            try await settle(ticket, Outcome(status: error.code, httpStatus: Int(error.status.code),
                                             ran: !Self.neverStarted.contains(error.code), response: nil))
            throw error
        } catch {
            // The client went away, or something unexpected: the call may have run.
            try await settle(ticket, Outcome(status: "aborted", httpStatus: 499, ran: true, response: nil))
            throw error
        }
        try await settle(ticket, outcome)
        return result
    }

    /// Errors that mean the call never reached a tool: not counted.
    static let neverStarted: Set<String> = ["worker_unavailable", "worker_restarting", "worker_degraded", "busy",
                                            "workers_disabled", "tenant_suspended"]

    /// After a crash: every reservation left open belongs to a call the dead
    /// process may have started. Its workers and jails died with it, so there
    /// is nothing left to ask; the call is counted (it may have run) and
    /// recorded as interrupted, never silently dropped.
    func reconcile() async {
        do {
            for open in try await store.openReservations() {
                try await store.settle(Settlement(
                    reservationID: open.id, endedAt: now(), status: "interrupted", httpStatus: 503,
                    figures: CallFigures(), ran: true, measured: [], decision: "allow", response: nil))
                logger.warning("reservation of a call cut off by a restart settled as interrupted",
                               metadata: ["tenant_id": "\(open.tenantID)", "request_id": "\(open.requestID)"])
            }
        } catch {
            logger.error("open reservations could not be reconciled", metadata: ["error": "\(error)"])
        }
    }

    static func quotaError(_ exceeded: QuotaExceeded, now: Date) -> APIError {
        var headers: HTTPFields = [:]
        var resets = ""
        if let resetsAt = exceeded.resetsAt {
            headers[.retryAfter] = String(max(1, Int(resetsAt.timeIntervalSince(now).rounded(.up))))
            resets = "; it resets at \(ISO8601DateFormatter().string(from: resetsAt))"
        } else {
            headers[.retryAfter] = "1"
        }
        let used = exceeded.used.rounded() == exceeded.used ? String(Int(exceeded.used)) : String(exceeded.used)
        let limit = exceeded.limit.rounded() == exceeded.limit ? String(Int(exceeded.limit)) : String(exceeded.limit)
        var error = APIError(.tooManyRequests, code: "quota_exceeded",
                             message: "\(exceeded.metric) is at its limit (\(used) of \(limit))\(resets)", headers: headers)
        error.quota = exceeded
        return error
    }
}
