#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A pool of reusable cgroups under `<hierarchy>/<parent>/`. Slots are named
/// `pool-<pid>-<n>`, so a later start can sweep the ones whose process died.
public final class CgroupPool: Sendable {
    public let host: CgroupHost
    public let parent: String
    private let state = Mutex<State>(State())
    private let maxIdle: Int

    private struct State {
        var idle: [CgroupSlot] = []
        var created = 0
    }

    public init(host: CgroupHost, parent: String = "warden", maxIdle: Int = 32) throws(SandboxError) {
        self.host = host
        self.parent = parent
        self.maxIdle = maxIdle
        try Self.prepareParent(host: host, parent: parent)
        Self.sweep(host: host, parent: parent)
    }

    private static func parentDirectories(_ host: CgroupHost, _ parent: String) -> [String] {
        let bases = host.version == .v2 ? [host.root] : Array(Set(host.controllerDirectories.values)).sorted()
        return bases.map { "\($0)/\(parent)" }
    }

    private static func prepareParent(host: CgroupHost, parent: String) throws(SandboxError) {
        if host.version == .v2 {
            // Children get only the controllers their parent enables.
            let enable = host.controllers.intersection(["memory", "pids", "cpu"]).sorted().map { "+" + $0 }.joined(separator: " ")
            if !enable.isEmpty { try? HostFile.write(host.root + "/cgroup.subtree_control", enable) }
            if mkdir("\(host.root)/\(parent)", 0o755) < 0 && errno != EEXIST {
                throw SandboxError.system("create cgroup \(host.root)/\(parent)", errno: errno)
            }
            if !enable.isEmpty { try? HostFile.write("\(host.root)/\(parent)/cgroup.subtree_control", enable) }
            return
        }
        for dir in parentDirectories(host, parent) where mkdir(dir, 0o755) < 0 && errno != EEXIST {
            throw SandboxError.system("create cgroup \(dir)", errno: errno)
        }
    }

    /// Removes slots of processes that no longer run, killing anything left in them.
    static func sweep(host: CgroupHost, parent: String) {
        for dir in parentDirectories(host, parent) {
            guard let entries = try? directoryEntries(dir) else { continue }
            for name in entries {
                let parts = name.split(separator: "-")
                guard parts.count >= 2, parts[0] == "pool" || parts[0] == "run", let pid = Int32(parts[1]) else { continue }
                if pid == getpid() || (kill(pid, 0) == 0 || errno == EPERM) { continue }
                if let slot = try? CgroupSlot(host: host, parent: parent, name: name) {
                    slot.killMembers()
                    slot.destroy()
                }
            }
        }
    }

    func acquire() throws(SandboxError) -> CgroupSlot {
        if let slot = state.withLock({ $0.idle.popLast() }) { return slot }
        let n = state.withLock { s -> Int in s.created += 1; return s.created }
        return try CgroupSlot(host: host, parent: parent, name: "pool-\(getpid())-\(n)")
    }

    func release(_ slot: CgroupSlot) {
        slot.reclaim()
        let kept = state.withLock { s -> Bool in
            guard s.idle.count < maxIdle else { return false }
            s.idle.append(slot)
            return true
        }
        if !kept { slot.destroy() }
    }

    /// Removes every idle slot (at shutdown).
    public func drain() {
        let slots = state.withLock { s -> [CgroupSlot] in defer { s.idle.removeAll() }; return s.idle }
        for slot in slots { slot.destroy() }
    }

    deinit { drain() }
}

func directoryEntries(_ path: String) throws(SandboxError) -> [String] {
    guard let dir = opendir(path) else { throw SandboxError.system("open directory \(path)", errno: errno) }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}
