import Foundation
import Store

/// This node's view of the tenant leases: which tenants it may run workers
/// for, and until when. The store decides who holds a lease; this table
/// keeps, for each lease held here, the local moment until which acting on
/// it is safe: the start of the last successful renewal plus the TTL minus a
/// margin. The store's expiry is at least the TTL after that start, so a
/// node that cannot renew stops the tenant's worker before anyone else may
/// take the lease.
actor TenantLeases {
    enum Route: Sendable, Equatable {
        /// This node holds the lease: serve the call here.
        case local
        /// Another node holds it.
        case elsewhere(TenantLease)
    }

    private struct Held {
        /// When the acquisition that created this entry started.
        var since: ContinuousClock.Instant
        var validUntil: ContinuousClock.Instant
        var lastUsed: ContinuousClock.Instant
    }

    private let store: any Store
    private let settings: NodeSettings
    private let clock = ContinuousClock()
    private var held: [String: Held] = [:]
    /// Who holds the leases of tenants served elsewhere, briefly remembered:
    /// forwarding every call need not ask the store first.
    private var remote: [String: (lease: TenantLease, until: ContinuousClock.Instant)] = [:]
    /// Another process registered under this node's id: this one serves no tenant any more.
    private var replaced = false
    /// Leases being given back: not taken again until the store has deleted them,
    /// or the deletion could remove a lease taken in between.
    private var releasing: Set<String> = []
    /// Leases being taken now: calls arriving meanwhile wait for the same
    /// answer (one write, not one per call), and the lease is not given back.
    private var acquiring: [String: Task<Route, any Error>] = [:]

    init(store: any Store, settings: NodeSettings) {
        self.store = store
        self.settings = settings
    }

    nonisolated var nodeID: String { settings.id }

    /// Where a call of the tenant runs: here when this node holds the lease or
    /// can take it now, else on the holder.
    func route(_ tenantID: String) async throws -> Route {
        guard !replaced else {
            throw APIError.unavailable(code: "node_replaced",
                                       "another process registered as node \(settings.id), or an operator forgot the node: this one serves no tenant; stop it")
        }
        while releasing.contains(tenantID) { try await Task.sleep(for: .milliseconds(5)) }
        let now = clock.now
        if var entry = held[tenantID], entry.validUntil > now {
            entry.lastUsed = now
            held[tenantID] = entry
            return .local
        }
        if let cached = remote[tenantID], cached.until > now { return .elsewhere(cached.lease) }
        if let pending = acquiring[tenantID] { return try await pending.value }
        let task = Task { try await acquire(tenantID) }
        acquiring[tenantID] = task
        defer { acquiring[tenantID] = nil }
        return try await task.value
    }

    /// Forgets a remembered holder (it did not answer).
    func forgetHolder(of tenantID: String) {
        remote[tenantID] = nil
    }

    /// Whether this node may run the tenant's worker right now.
    func isHeld(_ tenantID: String) -> Bool {
        held[tenantID].map { $0.validUntil > clock.now } ?? false
    }

    private func acquire(_ tenantID: String) async throws -> Route {
        let start = clock.now
        switch try await store.acquireLease(tenantID: tenantID, nodeID: settings.id, ttlMs: settings.leaseTTLMs) {
        case .acquired:
            held[tenantID] = Held(since: start, validUntil: start + settings.leaseValidity, lastUsed: clock.now)
            remote[tenantID] = nil
            return .local
        case .held(let lease):
            // A local entry left here has run out: the fence stops its worker.
            // Until the next heartbeat at most: a holder that dies is noticed within a beat.
            // Counted from when the store was asked, not from when its answer was read:
            // on a busy node that can be much later, and the answer is no younger for it.
            let remaining = Duration.milliseconds(max(0, lease.remainingMs))
            remote[tenantID] = (lease, start + min(remaining, settings.heartbeat))
            return .elsewhere(lease)
        }
    }

    /// The leases to renew with the next heartbeat, and when it starts.
    func renewalSnapshot() -> (tenantIDs: [String], at: ContinuousClock.Instant) {
        (held.keys.sorted(), clock.now)
    }

    /// Applies a heartbeat that started at `at` and renewed `renewed` of the
    /// tenants in `asked`. Returns the tenants whose lease is gone: asked for,
    /// not renewed, and held here since before the heartbeat began.
    func applyRenewal(asked: [String], renewed: Set<String>, at: ContinuousClock.Instant) -> [String] {
        var lost: [String] = []
        for tenantID in asked {
            guard var entry = held[tenantID] else { continue }
            if renewed.contains(tenantID) {
                entry.validUntil = max(entry.validUntil, at + settings.leaseValidity)
                held[tenantID] = entry
            } else if entry.since <= at {
                held[tenantID] = nil
                lost.append(tenantID)
            }
        }
        return lost
    }

    /// Whether some lease's safe time is over.
    func anyExpired() -> Bool {
        let now = clock.now
        return held.values.contains { $0.validUntil <= now }
    }

    /// Removes and returns the leases whose safe time is over: their workers must stop now.
    func takeExpired() -> [String] {
        let now = clock.now
        let expired = held.filter { $0.value.validUntil <= now }.map(\.key).sorted()
        for tenantID in expired { held[tenantID] = nil }
        return expired
    }

    /// Leases not used since `settings.idle` ago.
    func idleTenants() -> [String] {
        let cutoff = clock.now - settings.idle
        return held.filter { $0.value.lastUsed < cutoff }.map(\.key).sorted()
    }

    /// Gives a lease back: forgotten here first, so nothing acts on it while the store deletes it.
    func release(_ tenantID: String) async throws {
        guard acquiring[tenantID] == nil, held.removeValue(forKey: tenantID) != nil else { return }
        releasing.insert(tenantID)
        defer { releasing.remove(tenantID) }
        try await store.releaseLease(tenantID: tenantID, nodeID: settings.id)
    }

    /// Another process took this node's id: forget every lease and take none
    /// again. Returns the tenants whose workers must stop; nil once retired.
    func retire() -> [String]? {
        guard !replaced else { return nil }
        replaced = true
        return dropAll()
    }

    /// Forgets every lease (the node is leaving); returns their tenants.
    func dropAll() -> [String] {
        let all = held.keys.sorted()
        held = [:]
        remote = [:]
        return all
    }

    var heldTenantIDs: [String] { held.keys.sorted() }
}
