import NIOCore
import Store
import Synchronization

/// The network of one call (or of one long-lived jail): whose it is, on
/// behalf of which tool, the bytes it moved through the proxy, and every
/// channel it holds, closed together when it ends.
final class EgressSession: Sendable {
    let tenant: Tenant
    /// The tool whose connections these are (`exec`, `fetch`, `browser`); the policy sees it as `args.via`.
    let via: String
    let requestID: String
    private let accounts: EgressAccounts

    private struct State {
        var bytes: Int64 = 0
        var channels: [ObjectIdentifier: any Channel] = [:]
        var listeners: Set<ObjectIdentifier> = []
        var closed = false
        /// The last connection the proxy refused, and why (fetch answers with it).
        var refusal: APIError?
        /// Joined on first use: a session whose call never went out holds nothing.
        var account: TenantEgress?
    }
    private let state = Mutex(State())

    init(tenant: Tenant, via: String, requestID: String, accounts: EgressAccounts) {
        self.tenant = tenant
        self.via = via
        self.requestID = requestID
        self.accounts = accounts
    }

    /// The tenant's live figures, shared with its other open sessions.
    var account: TenantEgress {
        state.withLock { s in
            if let account = s.account { return account }
            // An ended session counts nothing more: a detached account keeps the tenant's clean.
            let account = s.closed ? TenantEgress(tenantID: tenant.id) : accounts.open(tenant.id)
            s.account = account
            return account
        }
    }

    /// Bytes sent and received through the proxy so far.
    var bytes: Int64 { state.withLock { $0.bytes } }

    var refusal: APIError? { state.withLock { $0.refusal } }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Counts bytes that crossed to or from the internet.
    func count(_ n: Int) {
        guard n > 0 else { return }
        let account = state.withLock { s -> TenantEgress? in
            s.bytes += Int64(n)
            return s.account
        }
        account?.liveBytes.add(Int64(n), ordering: .relaxed)
    }

    func recordRefusal(_ error: APIError) {
        state.withLock { $0.refusal = error }
    }

    /// Holds `channel` (a listener, or a connection) until the session ends;
    /// false when it has ended already (the caller closes the channel).
    @discardableResult
    func track(_ channel: any Channel, listener: Bool = false) -> Bool {
        let id = ObjectIdentifier(channel)
        let kept = state.withLock { s -> Bool in
            guard !s.closed else { return false }
            s.channels[id] = channel
            if listener { s.listeners.insert(id) }
            return true
        }
        if kept {
            channel.closeFuture.whenComplete { [weak self] _ in
                self?.state.withLock { s in
                    s.channels[id] = nil
                    s.listeners.remove(id)
                }
            }
        }
        return kept
    }

    /// Closes the listeners only (their jail has ended); connections finish on their own.
    func closeListeners() {
        let listeners = state.withLock { s in s.listeners.compactMap { s.channels[$0] } }
        for channel in listeners { channel.close(promise: nil) }
    }

    /// Ends the session: every listener and connection closes, and once they
    /// have, the bytes are final. Returns them. Idempotent.
    @discardableResult
    func close() async -> Int64 {
        let (channels, first, account) = state.withLock { s -> ([any Channel], Bool, TenantEgress?) in
            defer { s.closed = true }
            return (Array(s.channels.values), !s.closed, s.account)
        }
        for channel in channels {
            channel.close(promise: nil)
            try? await channel.closeFuture.get()
        }
        let total = bytes
        if first, let account { accounts.close(account, movingToStore: total) }
        return total
    }
}
