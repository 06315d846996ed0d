#if canImport(Glibc)
import Glibc
#endif

/// The uid/gid maps of a jail's user namespace.
struct IdentityPlan: Equatable {
    var uidMap: String
    var gidMap: String
    var denySetgroups: Bool
    /// The ids the jail's init takes: 0 with a range, else the one mapped id.
    var initUid: UInt32
    var initGid: UInt32
    /// Host ids that jail ids 0..<count map to (root mode), for chown of workspaces.
    var hostBase: UInt32?

    static let defaultBase: UInt32 = 100_000
    static let defaultCount: UInt32 = 65_536

    static func make(for config: JailConfig, isRoot: Bool = geteuid() == 0) throws(SandboxError) -> IdentityPlan {
        var identity = config.identity
        if identity == .automatic {
            identity = isRoot ? .range(base: defaultBase, count: defaultCount) : .callerOnly
        }
        switch identity {
        case .range(let base, let count):
            guard isRoot else {
                throw SandboxError.invalidConfig("a host id range needs root; run as root or use the caller's own id")
            }
            guard count > 0, config.uid < count, config.gid < count else {
                throw SandboxError.invalidConfig("uid \(config.uid) / gid \(config.gid) must lie inside the mapped range of \(count) ids")
            }
            guard base > 0, UInt64(base) + UInt64(count) <= UInt64(UInt32.max) else {
                throw SandboxError.invalidConfig("the host id range \(base)+\(count) must not include host root or overflow")
            }
            return IdentityPlan(uidMap: "0 \(base) \(count)\n", gidMap: "0 \(base) \(count)\n",
                                denySetgroups: false, initUid: 0, initGid: 0, hostBase: base)
        case .nested(let count):
            guard isRoot, UserNamespace.isNested else {
                throw SandboxError.invalidConfig("a nested id map needs the root of a non-initial user namespace (a worker inside a tenant jail)")
            }
            guard count > 0, config.uid < count, config.gid < count else {
                throw SandboxError.invalidConfig("uid \(config.uid) / gid \(config.gid) must lie inside the mapped range of \(count) ids")
            }
            return IdentityPlan(uidMap: "0 0 \(count)\n", gidMap: "0 0 \(count)\n",
                                denySetgroups: false, initUid: 0, initGid: 0, hostBase: nil)
        case .callerOnly, .automatic:
            return IdentityPlan(uidMap: "\(config.uid) \(geteuid()) 1\n", gidMap: "\(config.gid) \(getegid()) 1\n",
                                denySetgroups: true, initUid: config.uid, initGid: config.gid, hostBase: nil)
        }
    }
}

enum UserNamespace {
    /// True inside a user namespace other than the host's (its uid_map is not the identity of all ids).
    static var isNested: Bool {
        guard let map = HostFile.readString("/proc/self/uid_map") else { return false }
        let fields = map.split(whereSeparator: { $0 == " " || $0 == "\n" })
        return !(fields.count == 3 && fields[0] == "0" && fields[1] == "0" && fields[2] == "4294967295")
    }
}
