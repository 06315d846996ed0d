import Foundation
import Hummingbird
import Logging
import Sandbox
import Store

/// Starts each tenant's worker on its first call, stops idle ones, restarts
/// crashed ones with exponential backoff, and marks a tenant whose worker
/// keeps crashing as degraded until the operator or time clears it.
public actor WorkerManager {
    /// What operators see in `warden workers ps`.
    public struct Status: Codable, Sendable, Equatable {
        public var tenantID: String
        public var state: String
        public var pid: Int32?
        public var startedAt: Date?
        public var lastUsedAt: Date?
        public var callsInFlight: Int
        public var restarts: Int
        public var recentCrashes: Int
        public var lastError: String?

        enum CodingKeys: String, CodingKey {
            case state, pid, restarts
            case tenantID = "tenant_id"
            case startedAt = "started_at"
            case lastUsedAt = "last_used_at"
            case callsInFlight = "calls_in_flight"
            case recentCrashes = "recent_crashes"
            case lastError = "last_error"
        }
    }

    private struct Slot {
        var process: WorkerProcess?
        var starting: Task<WorkerProcess, any Error>?
        var lastUsed = Date()
        var inFlight = 0
        var crashes: [Date] = []
        var restarts = 0
        var degradedUntil: Date?
        var lastError: String?
    }

    static let crashWindow: TimeInterval = 60
    static let crashLoopCount = 5
    static let degradedFor: TimeInterval = 60

    private var slots: [String: Slot] = [:]
    /// Tenants deleted while this node ran (ids are never reused): no worker starts for them again.
    private var deleted: Set<String> = []
    private let settings: WorkerSettings
    /// The tenant's plan caps for its cgroup (memory, processes), read when its worker starts.
    private var capsProvider: (@Sendable (Tenant) async -> TenantCaps)?
    /// Serves the listeners of calls with the network; nil refuses them all.
    private var egressProxy: EgressProxy?
    private let jail: Jail
    nonisolated let layout: StateLayout
    private let logger: Logger
    private var reaper: Task<Void, Never>?
    /// Set once the daemon stops: no worker starts any more.
    private var shuttingDown = false
    /// Removes the tenant cgroups when this daemon ends, even by kill -9.
    private let janitor: CgroupJanitor?
    /// A worker starts only while this node holds the tenant's lease.
    private let leases: TenantLeases?

    init(settings: WorkerSettings, jail: Jail, layout: StateLayout, logger: Logger, leases: TenantLeases? = nil) {
        self.leases = leases
        self.settings = settings
        self.jail = jail
        self.layout = layout
        self.logger = logger
        if settings.rootMode, let host = jail.cgroups?.host {
            janitor = TenantCgroup.startJanitor(host: host, scope: settings.cgroupScope,
                                                lockPath: layout.root + "/cgroup-janitor.lock", logger: logger)
        } else {
            janitor = nil
        }
    }

    /// Stops workers that had no call for the idle time; runs until cancelled.
    func startReaper() {
        let interval = max(1, min(30, settings.idleSeconds / 2))
        reaper = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(interval))
                await self?.reapIdle()
            }
        }
    }

    var running: Int { slots.values.filter { $0.process != nil }.count }

    /// Workers running and calls in flight: what `warden nodes list` shows of this node.
    var load: (running: Int, inFlight: Int) { (running, slots.values.reduce(0) { $0 + max(0, $1.inFlight) }) }

    /// Whether the tenant has a worker running or starting, or a call in flight.
    func isActive(_ tenantID: String) -> Bool {
        guard let slot = slots[tenantID] else { return false }
        return slot.process != nil || slot.starting != nil || slot.inFlight > 0
    }
    var degraded: Int { slots.values.filter { ($0.degradedUntil ?? .distantPast) > Date() }.count }

    func setCapsProvider(_ provider: @escaping @Sendable (Tenant) async -> TenantCaps) {
        capsProvider = provider
    }

    func setEgressProxy(_ proxy: EgressProxy?) {
        egressProxy = proxy
    }

    /// The tenant's worker, started if needed; pair with `release`.
    func acquire(_ tenant: Tenant) async throws -> WorkerProcess {
        // A call authenticated just before the deletion must not bring the worker (and the workspace) back.
        if deleted.contains(tenant.id) {
            throw APIError.unauthenticated("tenant \(tenant.id) was deleted")
        }
        var slot = slots[tenant.id] ?? Slot()
        if let until = slot.degradedUntil, until > Date() {
            throw APIError(.serviceUnavailable, code: "worker_degraded",
                           message: "the worker of tenant \(tenant.id) keeps crashing (\(slot.lastError ?? "no detail")); calls resume at \(ISO8601DateFormatter().string(from: until)) or after `warden workers restart`",
                           headers: [.retryAfter: String(Int(until.timeIntervalSinceNow.rounded(.up)))])
        }
        slot.inFlight += 1
        slot.lastUsed = Date()
        slots[tenant.id] = slot
        do {
            let process = try await ensureRunning(tenant)
            return process
        } catch {
            slots[tenant.id]?.inFlight -= 1
            throw error
        }
    }

    func release(_ tenantID: String) {
        slots[tenantID]?.inFlight -= 1
        slots[tenantID]?.lastUsed = Date()
    }

    private func ensureRunning(_ tenant: Tenant) async throws -> WorkerProcess {
        // A worker asked to stop (restart, idle, suspend), or one whose socket has
        // closed (it died), takes no new calls: wait for it to end (at most its
        // grace) and its cgroup to go, then start a fresh one. The two never
        // overlap, since they share the tenant's cgroup.
        let deadline = Date().addingTimeInterval(5)
        while let process = slots[tenant.id]?.process, process.isStopping || process.connection.isClosed, Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        if let process = slots[tenant.id]?.process { return process }
        if let starting = slots[tenant.id]?.starting { return try await starting.value }
        try await waitForBackoff(tenant.id)
        if let process = slots[tenant.id]?.process { return process }
        if let starting = slots[tenant.id]?.starting { return try await starting.value }

        guard !shuttingDown else {
            throw APIError.unavailable(code: "shutting_down", "the server is stopping; retry on another node or after its restart")
        }
        var planned = self.settings
        let caps = await capsProvider?(tenant)
        if let caps {
            // The plan's caps replace the server's defaults for this tenant.
            if let memory = caps.memoryMB { planned.tenantMemoryBytes = memory << 20 }
            if let pids = caps.pids { planned.tenantPids = pids }
            if let cpus = caps.cpus { planned.tenantCpus = cpus }
        }
        try await holdLease(tenant.id)
        // Other calls of the tenant ran while the caps and the lease were read: one of them may have started it.
        if let process = slots[tenant.id]?.process { return process }
        if let starting = slots[tenant.id]?.starting { return try await starting.value }
        let settings = planned, jail = self.jail, logger = self.logger, proxy = egressProxy
        let image = settings.rootMode ? WorkspaceImage(path: layout.workspaceImage(tenant.id),
                                                       directory: layout.workspace(tenant.id),
                                                       owner: tenant.hostIDBase + TenantService.payloadIDOffset) : nil
        let directory = layout.workspace(tenant.id), storageLimit = caps?.storageBytes, layout = self.layout
        let leases = self.leases
        let task = Task<WorkerProcess, any Error> {
            let process = try await BlockingWork.run("worker-start") {
                // Created on another node: this one runs the tenant for the first time.
                if !FileManager.default.fileExists(atPath: layout.tenantDirectory(tenant.id)) {
                    try TenantService.makeWorkspace(for: tenant, layout: layout, rootMode: settings.rootMode)
                }
                let workspace = try Self.workspace(tenantID: tenant.id, image: image, directory: directory,
                                                   limit: storageLimit, logger: logger)
                return try WorkerProcess.start(tenant: tenant, workspace: workspace, settings: settings, jail: jail,
                                               proxy: proxy, logger: logger) { [weak self] result in
                    Task { await self?.exited(tenant.id, result: result) }
                }
            }
            // The lease may have run out while the worker started: it must not run on.
            if let leases, !(await leases.isHeld(tenant.id)) {
                process.kill(reason: .leaseLost)
                throw Self.leaseLost(tenant.id)
            }
            return process
        }
        slots[tenant.id]?.starting = task
        do {
            let process = try await task.value
            // The slot shows the worker before it stops showing the start, with
            // no suspension between: a call arriving in between would find
            // neither and start a second worker on the same workspace.
            slots[tenant.id]?.process = process
            slots[tenant.id]?.starting = nil
            logger.info("worker started", metadata: ["tenant_id": "\(tenant.id)", "pid": "\(process.cancellation.initPID ?? -1)"])
            return process
        } catch let error as APIError where error.code == "lease_lost" {
            slots[tenant.id]?.starting = nil
            throw error
        } catch {
            slots[tenant.id]?.starting = nil
            recordCrash(tenant.id, reason: "could not start: \(error)")
            throw APIError(.serviceUnavailable, code: "worker_unavailable",
                           message: "the worker of tenant \(tenant.id) could not start: \(error)")
        }
    }

    /// A worker may start only on the node holding the tenant's lease: takes
    /// it if nobody holds it, refuses (503) when another node does.
    private func holdLease(_ tenantID: String) async throws {
        guard let leases else { return }
        let route: TenantLeases.Route
        do {
            route = try await leases.route(tenantID)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.unavailable(code: "store_unavailable", "the store did not answer; try again shortly")
        }
        if case .elsewhere(let lease) = route {
            throw APIError(.serviceUnavailable, code: "tenant_moved",
                           message: "tenant \(tenantID) is served by node \(lease.nodeID) now; retry",
                           headers: [.retryAfter: "1"])
        }
    }

    static func leaseLost(_ tenantID: String) -> APIError {
        APIError(.serviceUnavailable, code: "lease_lost",
                 message: "this node lost the lease of tenant \(tenantID) (it could not renew it in time) and stopped its worker; retry: the call runs where the lease is now",
                 headers: [.retryAfter: "1"])
    }

    /// As root, a tenant with a storage limit gets its image, made or resized
    /// to the limit now; an image stays in use when its limit is removed.
    /// Otherwise (rootless, or no limit) the workspace is the directory.
    private static func workspace(tenantID: String, image: WorkspaceImage?, directory: String, limit: Int?,
                                  logger: Logger) throws -> WorkerProcess.Workspace {
        guard let image, limit != nil || image.exists else { return .directory(directory) }
        try image.waitUntilUnused()
        if let limit {
            let meta: Logger.Metadata = ["tenant_id": "\(tenantID)", "storage_bytes": "\(limit)"]
            switch try image.prepare(limit: limit) {
            case .unchanged: break
            case .created(let migrated):
                logger.info(migrated ? "workspace moved into its image" : "workspace image created", metadata: meta)
            case .resized(let from, let to):
                logger.info("workspace image resized", metadata: meta.merging(["from": "\(from)", "to": "\(to)"]) { $1 })
            case .overLimit(let bytes):
                logger.warning("the workspace holds more than its storage limit: its files are kept and it is full until some are deleted",
                               metadata: meta.merging(["image_bytes": "\(bytes)"]) { $1 })
            }
        }
        return .image(image.path)
    }

    /// After a crash the next start waits 0.25 s, 0.5 s, 1 s, … (at most 30 s).
    private func waitForBackoff(_ tenantID: String) async throws {
        guard let slot = slots[tenantID], let last = slot.crashes.last else { return }
        let recent = slot.crashes.filter { $0 > Date().addingTimeInterval(-Self.crashWindow) }.count
        guard recent > 0 else { return }
        let delay = min(30, 0.25 * pow(2, Double(recent - 1)))
        let remaining = last.addingTimeInterval(delay).timeIntervalSinceNow
        guard remaining > 0 else { return }
        if remaining > 3 {
            throw APIError(.serviceUnavailable, code: "worker_restarting",
                           message: "the worker of tenant \(tenantID) crashed and restarts in \(Int(remaining.rounded(.up))) s",
                           headers: [.retryAfter: String(Int(remaining.rounded(.up)))])
        }
        try await Task.sleep(for: .seconds(remaining))
    }

    private func recordCrash(_ tenantID: String, reason: String) {
        var slot = slots[tenantID] ?? Slot()
        let now = Date()
        slot.crashes = slot.crashes.filter { $0 > now.addingTimeInterval(-Self.crashWindow) } + [now]
        slot.lastError = reason
        if slot.crashes.count >= Self.crashLoopCount {
            slot.degradedUntil = now.addingTimeInterval(Self.degradedFor)
            logger.error("worker crash loop: tenant degraded", metadata: ["tenant_id": "\(tenantID)", "reason": "\(reason)"])
        }
        slots[tenantID] = slot
    }

    private func exited(_ tenantID: String, result: JailResult) {
        guard var slot = slots[tenantID], let process = slot.process else { return }
        slot.process = nil
        slots[tenantID] = slot
        if process.isStopping {
            logger.info("worker stopped", metadata: ["tenant_id": "\(tenantID)"])
            return
        }
        let reason = "\(result.status.rawValue)\(result.message.map { ": \($0)" } ?? "")"
        logger.error("worker crashed", metadata: ["tenant_id": "\(tenantID)", "result": "\(reason)"])
        slots[tenantID]?.restarts += 1
        recordCrash(tenantID, reason: reason)
    }

    /// Stops the tenant's worker (suspend, delete, idle, shutdown). With the
    /// tenant's new status, calls cut short answer as that tenant's new calls do.
    func stop(_ tenantID: String, graceMs: Int = 2000, tenantStatus: TenantStatus? = nil) {
        if tenantStatus == .deleted { deleted.insert(tenantID) }
        slots[tenantID]?.process?.stop(graceMs: graceMs, reason: tenantStatus.map { .tenant($0) } ?? .requested)
    }

    /// The tenant's lease is no longer this node's: its worker dies now, its calls answer `lease_lost`.
    func fence(_ tenantID: String) {
        slots[tenantID]?.process?.kill(reason: .leaseLost)
    }

    /// Kills the tenant's worker at once. False when none runs.
    func kill(_ tenantID: String) -> Bool {
        guard let process = slots[tenantID]?.process else { return false }
        process.kill()
        return true
    }

    /// Clears a degraded mark and the crash history, and stops the worker so the next call starts a fresh one.
    func restart(_ tenantID: String) {
        slots[tenantID]?.degradedUntil = nil
        slots[tenantID]?.crashes = []
        slots[tenantID]?.process?.stop(graceMs: 1000)
    }

    func list() -> [Status] {
        let now = Date()
        return slots.keys.sorted().compactMap { id in
            guard let slot = slots[id] else { return nil }
            let state: String
            if let until = slot.degradedUntil, until > now { state = "degraded" }
            else if slot.process != nil { state = "running" }
            else if slot.starting != nil { state = "starting" }
            else if slot.crashes.contains(where: { $0 > now.addingTimeInterval(-Self.crashWindow) }) { state = "crashed" }
            else { state = "stopped" }
            return Status(tenantID: id, state: state, pid: slot.process?.cancellation.initPID,
                          startedAt: slot.process?.startedAt, lastUsedAt: slot.lastUsed, callsInFlight: slot.inFlight,
                          restarts: slot.restarts,
                          recentCrashes: slot.crashes.filter { $0 > now.addingTimeInterval(-Self.crashWindow) }.count,
                          lastError: slot.lastError)
        }
    }

    private func reapIdle() {
        let cutoff = Date().addingTimeInterval(-settings.idleSeconds)
        for (id, slot) in slots where slot.process != nil && slot.inFlight == 0 && slot.lastUsed < cutoff {
            logger.info("stopping idle worker", metadata: ["tenant_id": "\(id)"])
            slot.process?.stop()
        }
    }

    /// Stops every worker and waits (up to the grace) for them to end; kills
    /// those that outlive it, then has the janitor remove their cgroups, so
    /// that a daemon that exits leaves nothing behind.
    func shutdownAll(graceMs: Int) async {
        reaper?.cancel()
        shuttingDown = true
        let clock = ContinuousClock(), began = clock.now
        // A worker still starting is stopped once it has started.
        for slot in slots.values { _ = try? await slot.starting?.value }
        let count = running
        for slot in slots.values { slot.process?.stop(graceMs: graceMs) }
        await waitUntilNoneRuns(within: .milliseconds(graceMs + 2000))
        if running > 0 {
            logger.warning("workers outlived the shutdown grace: killing them", metadata: ["count": "\(running)"])
            for slot in slots.values { slot.process?.kill() }
            await waitUntilNoneRuns(within: .seconds(10))
        }
        // Whatever the stopped workers left goes now, not only when the process ends.
        let janitor = self.janitor
        let janitorDone = (try? await BlockingWork.run("cgroup-janitor") { janitor?.finish() ?? true }) ?? false
        logger.info("workers stopped", metadata: [
            "workers": "\(count)", "left_running": "\(running)", "cgroups_removed": "\(janitorDone)",
            "ms": "\(Int((clock.now - began) / .milliseconds(1)))"])
    }

    private func waitUntilNoneRuns(within limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while running > 0 && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
    }
}

/// What a plan caps for a tenant's whole jail (worker and every call in it).
struct TenantCaps: Sendable, Equatable {
    var memoryMB: Int?
    var pids: Int?
    /// CPU bandwidth in cores.
    var cpus: Double?
    /// storage.bytes: the size of the workspace's filesystem (root).
    var storageBytes: Int?
}
