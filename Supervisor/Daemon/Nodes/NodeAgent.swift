import Foundation
import Logging
import ServiceLifecycle
import Store
import Synchronization

/// This node's life among the nodes sharing the store: it registers at
/// start, heartbeats (renewing its tenant leases), stops the workers of
/// leases it could not renew in time, gives back leases nobody uses,
/// settles the calls of nodes that died, and at shutdown, once the workers
/// have stopped, releases its leases and leaves.
final class NodeAgent: Service, Sendable {
    let settings: NodeSettings
    let store: any Store
    let leases: TenantLeases
    let workers: WorkerManager
    let decisions: DecisionServices
    let logger: Logger
    /// The advertised address: configured, or derived once the tenant API listens.
    private let advertise: Mutex<String?>
    private let failing = Failing()

    init(settings: NodeSettings, store: any Store, leases: TenantLeases, workers: WorkerManager,
         decisions: DecisionServices, logger: Logger) {
        advertise = Mutex(settings.advertise)
        self.settings = settings
        self.store = store
        self.leases = leases
        self.workers = workers
        self.decisions = decisions
        self.logger = logger
    }

    /// The tenant API listens at `derived`: unless an address was configured,
    /// it is the one other nodes use, and it is in the store before this returns.
    func announce(_ derived: String?) async {
        advertise.withLock { current in current = settings.advertise ?? derived }
        // A store that does not answer yet gets ten seconds; the heartbeats go on trying after.
        for _ in 0..<50 {
            if await heartbeat() { return }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Registers this node. When another process heartbeated under the same id
    /// within its TTL, waits until that heartbeat is older than the TTL: by
    /// then that process, if it still runs, has stopped every worker of ours.
    func register() async throws {
        var said = false
        while true {
            let outcome = try await store.registerNode(NodeRegistration(
                id: settings.id, incarnation: settings.incarnation, advertise: settings.advertise,
                leaseTTLMs: settings.leaseTTLMs, takeOver: settings.takeOver))
            guard case .stillLive(let age, let ttl) = outcome else { break }
            if !said {
                logger.warning("another process heartbeated as this node recently; waiting until its leases have expired",
                               metadata: ["node": "\(settings.id)", "heartbeat_age_ms": "\(age)", "lease_ttl_ms": "\(ttl)"])
                said = true
            }
            try await Task.sleep(for: .milliseconds(min(1000, max(50, ttl - age + 50))))
        }
        logger.info("node registered", metadata: ["node": "\(settings.id)", "advertise": "\(settings.advertise ?? "(derived)")",
                                                  "lease_ttl_ms": "\(settings.leaseTTLMs)"])
    }

    func run() async throws {
        let beats = Task { await self.heartbeats() }
        let fence = Task { await self.fencing() }
        let choring = Task { await self.choresLoop() }
        try? await gracefulShutdown()
        beats.cancel()
        fence.cancel()
        choring.cancel()
        _ = await (beats.value, fence.value, choring.value)
        await leave()
    }

    // MARK: Heartbeats

    private func heartbeats() async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let started = clock.now
            await heartbeat()
            try? await Task.sleep(until: started + settings.heartbeat, clock: clock)
        }
    }

    /// The slower chores run about once per lease TTL (every fifth heartbeat
    /// at most), in a task of their own: a slow one never holds a heartbeat back.
    private func choresLoop() async {
        let period = min(settings.leaseTTL, settings.heartbeat * 5)
        while !Task.isCancelled {
            await chores()
            try? await Task.sleep(for: period)
        }
    }

    /// One heartbeat; false when the store did not take it.
    @discardableResult
    func heartbeat() async -> Bool {
        let (asked, at) = await leases.renewalSnapshot()
        let load = await workers.load
        let renewed: [RenewedLease]
        do {
            renewed = try await store.heartbeat(NodeHeartbeat(
                nodeID: settings.id, incarnation: settings.incarnation, advertise: advertise.withLock { $0 },
                leaseTTLMs: settings.leaseTTLMs, workersRunning: load.running, callsInFlight: load.inFlight,
                tenantIDs: asked))
        } catch StoreError.conflict(let message) {
            guard let tenants = await leases.retire() else { return false }
            logger.critical("another process registered under this node's id, or an operator forgot this node: every worker stops and no call runs here",
                            metadata: ["error": "\(message)"])
            for tenantID in tenants { await workers.fence(tenantID) }
            return false
        } catch {
            if failing.begin() {
                logger.error("heartbeat failed: leases this node cannot renew stop their workers before they expire",
                             metadata: ["error": "\(error)"])
            }
            return false
        }
        if failing.end() { logger.notice("heartbeat works again") }
        for tenantID in await leases.applyRenewal(asked: asked, renewed: Set(renewed.map(\.tenantID)), at: at) {
            logger.warning("lost the lease of a tenant: its worker stops", metadata: ["tenant_id": "\(tenantID)"])
            await workers.fence(tenantID)
        }
        // Suspended or deleted through another node: stop the worker here too, and let the lease go.
        for lease in renewed where lease.tenantStatus != .active {
            await workers.stop(lease.tenantID, graceMs: 0, tenantStatus: lease.tenantStatus)
            try? await leases.release(lease.tenantID)
            if lease.tenantStatus == .deleted {
                TenantService.removeTenantDirectory(lease.tenantID, layout: workers.layout, logger: logger)
            }
        }
        return true
    }

    // MARK: Fencing

    /// Stops the worker of every lease whose safe time ran out without a renewal.
    private func fencing() async {
        let tick = min(Duration.milliseconds(100), settings.fenceMargin / 4)
        while !Task.isCancelled {
            if await leases.anyExpired() { await lastChanceRenewal() }
            for tenantID in await leases.takeExpired() {
                logger.error("could not renew the lease of a tenant in time: its worker is stopped before the lease expires",
                             metadata: ["tenant_id": "\(tenantID)"])
                await workers.fence(tenantID)
            }
            try? await Task.sleep(for: tick)
        }
    }

    /// A heartbeat that was late (a starved machine, a slow store) need not
    /// cost the tenants their workers: one renewal now, given half the fence
    /// margin. The store renews only leases still this node's and unexpired,
    /// so a renewal that succeeds proves no other node took them, and one
    /// that fails or is late leaves the fence to act while the margin lasts.
    private func lastChanceRenewal() async {
        let beat = Task { await self.heartbeat() }
        let renewed = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await beat.value }
            group.addTask { try? await Task.sleep(for: self.settings.fenceMargin / 2); return false }
            defer { group.cancelAll() }
            return await group.next() ?? false
        }
        if renewed { logger.notice("a late heartbeat renewed the leases just before their fence") }
    }

    // MARK: Chores

    func chores() async {
        await releaseIdleLeases()
        await settleCallsOfDeadNodes()
        await decisions.approvals.runWaiting()
        // Plans edited through another node reach this node's policies.
        do {
            try await decisions.refreshPlans(store)
        } catch {
            logger.warning("the store's plans could not be given to the policies", metadata: ["error": "\(error)"])
        }
    }

    /// A lease nobody used for the idle time, whose worker has stopped, goes back.
    private func releaseIdleLeases() async {
        for tenantID in await leases.idleTenants() where !(await workers.isActive(tenantID)) {
            do {
                try await leases.release(tenantID)
                logger.info("idle tenant lease released", metadata: ["tenant_id": "\(tenantID)"])
            } catch {
                logger.warning("an idle tenant lease could not be released; it expires by itself",
                               metadata: ["tenant_id": "\(tenantID)", "error": "\(error)"])
            }
        }
    }

    /// Calls reserved by nodes that are no longer live died with them: settle them.
    func settleCallsOfDeadNodes() async {
        guard let nodes = try? await store.listNodes() else { return }
        let live = Set(nodes.filter { $0.state == .live }.map(\.id)).union([settings.id])
        await decisions.meter.reconcile { reservation in reservation.nodeID.map { !live.contains($0) } ?? false }
    }

    // MARK: Leaving

    /// Every worker has stopped: give the leases back so other nodes take the tenants at once.
    private func leave() async {
        for tenantID in await leases.dropAll() { await workers.fence(tenantID) }
        do {
            try await store.leaveNode(id: settings.id, incarnation: settings.incarnation)
            logger.info("node left; its tenant leases are released", metadata: ["node": "\(settings.id)"])
        } catch {
            logger.error("could not release this node's leases; they expire by themselves",
                         metadata: ["error": "\(error)"])
        }
    }
}

/// Whether the heartbeat is failing, so each change is logged once.
private final class Failing: Sendable {
    private let state = Mutex(false)

    /// True when this begins a run of failures.
    func begin() -> Bool { state.withLock { failing in defer { failing = true }; return !failing } }

    /// True when this ends a run of failures.
    func end() -> Bool { state.withLock { failing in defer { failing = false }; return failing } }
}
