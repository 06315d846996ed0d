#if canImport(Glibc)
import Glibc
#endif

/// One cgroup (one directory per v1 hierarchy) that a jail runs in. Slots are
/// pooled: limits are written only when they change and counters are read as
/// differences, because mkdir/rmdir of cgroups costs milliseconds per run.
final class CgroupSlot: @unchecked Sendable {
    let host: CgroupHost
    let name: String
    /// Directory of this slot per controller (v2: one directory for all).
    let directories: [String: String]
    /// v1: cgroup.procs of each distinct hierarchy. v2: empty.
    private(set) var procsFds: [Int32] = []
    /// v2: the directory, for CLONE_INTO_CGROUP. v1: -1.
    private(set) var directoryFd: Int32 = -1
    private var files: [String: Int32] = [:]
    private var applied: [String: String] = [:]
    private var baseline = Usage()

    struct Usage: Equatable {
        var userNs: UInt64 = 0
        var systemNs: UInt64 = 0
        var totalNs: UInt64 = 0
        var oomKills: UInt64 = 0
        var peakBytes: Int?
    }

    init(host: CgroupHost, parent: String, name: String, createParents: Bool = false) throws(SandboxError) {
        self.host = host
        self.name = name
        var dirs: [String: String] = [:]
        for (controller, base) in host.controllerDirectories {
            dirs[controller] = "\(base)/\(parent)/\(name)"
        }
        if host.version == .v2, dirs.isEmpty { dirs["unified"] = "\(host.root)/\(parent)/\(name)" }
        self.directories = dirs
        do throws(SandboxError) {
            for dir in Set(dirs.values) {
                if createParents { try Self.makeParents(of: dir) }
                if mkdir(dir, 0o755) < 0 && errno != EEXIST {
                    throw SandboxError.system("create cgroup \(dir)", errno: errno)
                }
            }
            if host.version == .v1 {
                for dir in Set(dirs.values).sorted() {
                    procsFds.append(try openFile("\(dir)/cgroup.procs", flags: O_WRONLY))
                }
            } else if let dir = dirs.values.first {
                directoryFd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                if directoryFd < 0 { throw SandboxError.system("open cgroup \(dir)", errno: errno) }
            }
        } catch {
            destroy()
            throw error
        }
    }

    private static func makeParents(of dir: String) throws(SandboxError) {
        var path = ""
        let parts = dir.split(separator: "/")
        for part in parts.dropLast() {
            path += "/" + part
            if mkdir(path, 0o755) < 0 && errno != EEXIST {
                throw SandboxError.system("create cgroup \(path)", errno: errno)
            }
        }
    }

    /// Closes the descriptors but leaves the cgroup (a named one outlives a run).
    func close() {
        for fd in files.values { Glibc.close(fd) }
        files.removeAll()
        for fd in procsFds { Glibc.close(fd) }
        procsFds.removeAll()
        if directoryFd >= 0 { Glibc.close(directoryFd); directoryFd = -1 }
    }

    private func openFile(_ path: String, flags: Int32) throws(SandboxError) -> Int32 {
        let fd = open(path, flags | O_CLOEXEC)
        if fd < 0 { throw SandboxError.system("open \(path)", errno: errno) }
        return fd
    }

    /// A cached descriptor of a control file, or nil when the controller or file is absent.
    private func file(_ controller: String, _ leaf: String, write: Bool = false) -> Int32? {
        let key = "\(controller)/\(leaf)"
        if let fd = files[key] { return fd }
        guard let dir = directories[controller] ?? (host.version == .v2 ? directories.values.first : nil) else { return nil }
        let fd = open("\(dir)/\(leaf)", (write ? O_RDWR : O_RDONLY) | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        files[key] = fd
        return fd
    }

    private func put(_ controller: String, _ leaf: String, _ value: String) throws(SandboxError) {
        guard let fd = file(controller, leaf, write: true) else {
            throw SandboxError.cgroup("\(controller)/\(leaf) is not available in \(directories[controller] ?? host.root)")
        }
        let bytes = Array(value.utf8)
        let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        if n != bytes.count { throw SandboxError.system("write \(value) to \(controller)/\(leaf)", errno: n < 0 ? errno : EIO) }
    }

    private func get(_ controller: String, _ leaf: String) -> String? {
        guard let fd = file(controller, leaf) else { return nil }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n], as: UTF8.self)
    }

    private func number(_ controller: String, _ leaf: String) -> UInt64? {
        get(controller, leaf).flatMap { UInt64($0.trimmingCharacters(in: " \n")) }
    }

    private func field(_ controller: String, _ leaf: String, _ key: String) -> UInt64? {
        guard let text = get(controller, leaf) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key { return UInt64(parts[1]) }
        }
        return nil
    }

    private func setIfChanged(_ controller: String, _ leaf: String, _ value: String) throws(SandboxError) {
        let key = "\(controller)/\(leaf)"
        if applied[key] == value { return }
        try put(controller, leaf, value)
        applied[key] = value
    }

    /// Writes the limits of the next run and takes the counters' baseline.
    func prepare(_ limits: Limits) throws(SandboxError) {
        switch host.version {
        case .v1:
            if host.controllers.contains("memory") {
                let limit = limits.memoryBytes.map(String.init) ?? "-1"
                // memsw must stay >= the memory limit: lift it, set memory, then pin swap to zero.
                let hasSwap = file("memory", "memory.memsw.limit_in_bytes", write: true) != nil
                if applied["memory/memory.limit_in_bytes"] != limit {
                    if hasSwap { try put("memory", "memory.memsw.limit_in_bytes", "-1"); applied["memory/memory.memsw.limit_in_bytes"] = "-1" }
                    try setIfChanged("memory", "memory.limit_in_bytes", limit)
                }
                if hasSwap { try setIfChanged("memory", "memory.memsw.limit_in_bytes", limit) }
                try put("memory", "memory.max_usage_in_bytes", "0")
            }
            if host.controllers.contains("pids") {
                try setIfChanged("pids", "pids.max", limits.pids.map(String.init) ?? "max")
            }
            if host.controllers.contains("cpu") {
                try setIfChanged("cpu", "cpu.cfs_period_us", "100000")
                try setIfChanged("cpu", "cpu.cfs_quota_us", limits.cpus.map { String(max(1000, Int($0 * 100_000))) } ?? "-1")
            }
        case .v2:
            if host.controllers.contains("memory") {
                try setIfChanged("memory", "memory.max", limits.memoryBytes.map(String.init) ?? "max")
                if file("memory", "memory.swap.max", write: true) != nil { try setIfChanged("memory", "memory.swap.max", "0") }
                if let fd = file("memory", "memory.peak", write: true) { _ = pwrite(fd, "reset", 5, 0) }
            }
            if host.controllers.contains("pids") {
                try setIfChanged("pids", "pids.max", limits.pids.map(String.init) ?? "max")
            }
            if host.controllers.contains("cpu") {
                try setIfChanged("cpu", "cpu.max", limits.cpus.map { "\(max(1000, Int($0 * 100_000))) 100000" } ?? "max 100000")
            }
        }
        baseline = readUsage()
    }

    /// The counters as they are now (not since `prepare`).
    func readUsage() -> Usage {
        var u = Usage()
        switch host.version {
        case .v1:
            u.userNs = number("cpuacct", "cpuacct.usage_user") ?? 0
            u.systemNs = number("cpuacct", "cpuacct.usage_sys") ?? 0
            u.totalNs = number("cpuacct", "cpuacct.usage") ?? 0
            u.oomKills = field("memory", "memory.oom_control", "oom_kill") ?? 0
            u.peakBytes = number("memory", "memory.max_usage_in_bytes").map { Int($0) }
        case .v2:
            u.userNs = (field("cpu", "cpu.stat", "user_usec") ?? 0) * 1000
            u.systemNs = (field("cpu", "cpu.stat", "system_usec") ?? 0) * 1000
            u.totalNs = (field("cpu", "cpu.stat", "usage_usec") ?? 0) * 1000
            u.oomKills = field("memory", "memory.events", "oom_kill") ?? 0
            u.peakBytes = number("memory", "memory.peak").map { Int($0) }
        }
        return u
    }

    /// CPU time used since `prepare`, for enforcing CPU limits while the jail runs.
    func cpuNanoseconds() -> UInt64 {
        let total: UInt64
        switch host.version {
        case .v1: total = number("cpuacct", "cpuacct.usage") ?? 0
        case .v2: total = (field("cpu", "cpu.stat", "usage_usec") ?? 0) * 1000
        }
        return total &- baseline.totalNs
    }

    /// What the last run used.
    func usage() -> Usage {
        let now = readUsage()
        return Usage(userNs: now.userNs &- baseline.userNs, systemNs: now.systemNs &- baseline.systemNs,
                     totalNs: now.totalNs &- baseline.totalNs, oomKills: now.oomKills &- baseline.oomKills,
                     peakBytes: now.peakBytes)
    }

    /// Whether the CPU figures come from the cgroup (else from the jail's own rusage).
    var accountsCPU: Bool { host.controllers.contains(host.version == .v1 ? "cpuacct" : "cpu") || host.version == .v2 }

    /// Gives back page cache charged by the last run, so the next run's peak
    /// starts low. Reclaiming costs time, so only a large leftover is reclaimed.
    func reclaim(above threshold: UInt64 = 8 << 20) {
        guard host.version == .v1, let left = number("memory", "memory.usage_in_bytes"), left > threshold,
              let fd = file("memory", "memory.force_empty", write: true) else { return }
        _ = pwrite(fd, "0", 1, 0)
    }

    /// Kills whatever is still inside (left by an earlier, killed supervisor).
    func killMembers() {
        for dir in Set(directories.values) {
            if host.version == .v2, HostFile.exists(dir + "/cgroup.kill") {
                try? HostFile.write(dir + "/cgroup.kill", "1")
                continue
            }
            guard let procs = HostFile.readString(dir + "/cgroup.procs") else { continue }
            for line in procs.split(separator: "\n") { if let pid = Int32(line) { kill(pid, SIGKILL) } }
        }
    }

    func destroy() {
        close()
        for dir in Set(directories.values) {
            // A just-killed jail's tasks can take a moment to leave.
            for _ in 0..<50 where rmdir(dir) < 0 && errno == EBUSY { usleep(2000) }
        }
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}
