import Foundation
import NIOConcurrencyHelpers
import Store

/// Plans and tenants' overrides as read from the store, kept a few seconds:
/// every call needs them, and they change rarely. Edits on this node clear it at
/// once; edits elsewhere (another node on the same database) show within the
/// time to live.
final class PlanCache: Sendable {
    private let entries = NIOLockedValueBox<[String: (plan: Plan?, at: ContinuousClock.Instant)]>([:])
    /// Tenants' own overrides, kept the same way.
    private let overrides = NIOLockedValueBox<[String: (limits: [String: Limit], at: ContinuousClock.Instant)]>([:])
    let timeToLive: Duration

    init(timeToLive: Duration = .seconds(5)) {
        self.timeToLive = timeToLive
    }

    func plan(named name: String, from store: any Store) async throws -> Plan? {
        let now = ContinuousClock.now
        if let entry = entries.withLockedValue({ $0[name] }), now - entry.at < timeToLive { return entry.plan }
        let plan = try await store.plan(named: name)
        entries.withLockedValue { $0[name] = (plan, now) }
        return plan
    }

    func overrides(of tenantID: String, from store: any Store) async throws -> [String: Limit] {
        let now = ContinuousClock.now
        if let entry = overrides.withLockedValue({ $0[tenantID] }), now - entry.at < timeToLive { return entry.limits }
        let limits = try await store.tenantLimits(tenantID: tenantID)
        overrides.withLockedValue { $0[tenantID] = (limits, now) }
        return limits
    }

    func invalidate() {
        entries.withLockedValue { $0.removeAll() }
        overrides.withLockedValue { $0.removeAll() }
    }
}
