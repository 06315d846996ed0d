import Synchronization

/// What one tenant's open sessions do through the proxy right now: bytes not
/// yet settled into the store, and connections open.
final class TenantEgress: Sendable {
    let tenantID: String
    let liveBytes = Atomic<Int64>(0)
    let connections = Atomic<Int>(0)

    init(tenantID: String) {
        self.tenantID = tenantID
    }
}

/// One `TenantEgress` per tenant with open sessions, shared by them all, so
/// that a tenant's limits hold across its concurrent calls.
final class EgressAccounts: Sendable {
    private let accounts = Mutex<[String: (account: TenantEgress, sessions: Int)]>([:])

    func open(_ tenantID: String) -> TenantEgress {
        accounts.withLock { all in
            var entry = all[tenantID] ?? (TenantEgress(tenantID: tenantID), 0)
            entry.sessions += 1
            all[tenantID] = entry
            return entry.account
        }
    }

    /// A session ended: its bytes leave the live count as they go to the store (settlement).
    func close(_ account: TenantEgress, movingToStore bytes: Int64) {
        account.liveBytes.subtract(bytes, ordering: .relaxed)
        accounts.withLock { all in
            guard var entry = all[account.tenantID] else { return }
            entry.sessions -= 1
            all[account.tenantID] = entry.sessions > 0 ? entry : nil
        }
    }
}
