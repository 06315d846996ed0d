import Foundation
import Store
#if canImport(Glibc)
import Glibc
#endif

/// Who this node is among the nodes sharing a store, and its lease timing,
/// resolved once from the configuration.
struct NodeSettings: Sendable {
    let id: String
    /// New at every start: tells this process from an earlier one under the same id.
    let incarnation = "inc_" + RandomID.string(length: 12)
    /// nil: derived from the tenant API's address once it listens.
    let advertise: String?
    let heartbeat: Duration
    let leaseTTL: Duration
    /// A lease unused this long, with no worker behind it, is given back.
    let idle: Duration
    /// SQLite: the state directory's lock proves an earlier process under this id is gone.
    let takeOver: Bool

    init(configuration: SupervisorConfiguration) {
        id = configuration.nodeID ?? Self.hostNodeID()
        advertise = configuration.nodeAdvertise
        heartbeat = .milliseconds(configuration.nodeHeartbeatMs)
        leaseTTL = .milliseconds(configuration.nodeLeaseTTLMs)
        idle = .milliseconds(Int64(configuration.workerIdleSeconds * 1000))
        takeOver = configuration.store == .sqlite
    }

    var leaseTTLMs: Int64 { Int64(leaseTTL / .milliseconds(1)) }

    /// A node stops its tenants' workers this long before their leases could
    /// expire for others: room for the kill, and for clocks that run apart.
    var fenceMargin: Duration { leaseTTL / 4 }

    /// How long a lease renewed (or taken) at some moment is safe to act on.
    var leaseValidity: Duration { leaseTTL - fenceMargin }

    /// The host's name, cut to what a node id may hold.
    static func hostNodeID() -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
        let host = String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
        let name = String(host.filter { allowed.contains($0) }.prefix(64))
        return name.isEmpty ? "node" : name
    }
}
