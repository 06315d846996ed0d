import CSandbox
#if canImport(Glibc)
import Glibc
#endif

/// What the payload reads on stdin.
public enum JailInput: Sendable {
    case null
    case bytes([UInt8])
    /// A descriptor of the caller's (for example 0 to pass a terminal through).
    case fileDescriptor(Int32)
}

public enum OutputStream: Sendable { case stdout, stderr }

/// A finished run: the result and whatever output was kept.
public struct JailOutcome: Sendable {
    public var result: JailResult
    public var stdout: [UInt8]
    public var stderr: [UInt8]
}

/// Starts programs in jails and reports how they ended. One instance serves
/// many concurrent runs; it owns the pool of cgroups they run in.
public final class Jail: Sendable {
    public let facts: HostFacts
    /// nil when cgroups are not available or writable (rootless).
    public let cgroups: CgroupPool?

    /// - Parameters:
    ///   - cgroupRoot: the cgroup hierarchy; nil runs without cgroups.
    ///   - cgroupParent: the group under which this instance makes its slots.
    public init(cgroupRoot: String? = "/sys/fs/cgroup", cgroupParent: String = "warden") throws(SandboxError) {
        let facts = HostFacts.probe(cgroupRoot: cgroupRoot ?? "/sys/fs/cgroup")
        self.facts = facts
        if cgroupRoot != nil, let host = facts.cgroups, facts.cgroupsWritable {
            CgroupTuning.favorDynamicModifications()
            cgroups = try CgroupPool(host: host, parent: cgroupParent)
        } else {
            cgroups = nil
        }
    }

    /// Runs `config` to the end. `onOutput` sees each chunk as it arrives
    /// (only the part within the output limit); `keepOutput` keeps it in the outcome.
    /// `cancellation` ends the run from another thread (status `signaled`, "cancelled").
    /// `onStarted` runs once the jail is set up and the payload started (not when
    /// the setup failed): the loopback listener is waiting on its channel by then.
    /// With `arming`, a run that fits takes the jail armed for it, if one is ready.
    public func run(_ config: JailConfig, stdin: JailInput = .null, keepOutput: Bool = true,
                    cancellation: JailCancellation? = nil,
                    onOutput: ((OutputStream, UnsafeRawBufferPointer) -> Void)? = nil,
                    onStarted: (() -> Void)? = nil, arming: JailArming? = nil) -> JailOutcome {
        let start = Clock.now()
        var onStarted = onStarted
        if let arming, JailArming.fits(config, stdin: stdin) {
            let started = onStarted
            onStarted = {
                arming.armNext(config)
                started?()
            }
            if let armed = arming.take(for: config),
               let outcome = fire(armed, config, stdin: stdin, keepOutput: keepOutput, cancellation: cancellation,
                                  onStarted: onStarted, onOutput: onOutput, start: start) {
                arming.succeeded()
                return outcome
            }
        }
        do {
            return try runChecked(config, stdin: stdin, keepOutput: keepOutput, cancellation: cancellation,
                                  onStarted: onStarted, onOutput: onOutput, start: start)
        } catch {
            return JailOutcome(result: .setupError("\(error)", wallMs: Clock.elapsedMs(since: start)), stdout: [], stderr: [])
        }
    }

    private func runChecked(_ config: JailConfig, stdin: JailInput, keepOutput: Bool,
                            cancellation: JailCancellation?, onStarted: (() -> Void)?,
                            onOutput: ((OutputStream, UnsafeRawBufferPointer) -> Void)?,
                            start: UInt64) throws(SandboxError) -> JailOutcome {
        if config.loopbackListener != nil, config.network != .isolated {
            throw SandboxError.invalidConfig("a loopback listener needs a network namespace of its own (network: isolated)")
        }
        let executable = try resolve(config.command, path: config.environment["PATH"] ?? "/usr/bin:/bin")
        let steps = try RootLayout.steps(for: config)
        let identity = try IdentityPlan.make(for: config, isRoot: facts.isRoot)

        let slot = try cgroupSlot(for: config)
        var run = StartedRun(slot: slot, pooled: config.cgroupName == nil)
        defer { run.finish(pool: cgroups) }
        try slot?.prepare(config.limits)

        let (outRead, outWrite) = try run.fds.pipe()
        let (errRead, errWrite) = try run.fds.pipe()
        var stdinFd: Int32
        var stdinWriter: Int32 = -1
        switch stdin {
        case .null: stdinFd = try run.fds.open("/dev/null", O_RDONLY)
        case .fileDescriptor(let fd): stdinFd = fd
        case .bytes(let data):
            let (r, w) = try run.fds.pipe()
            stdinFd = r
            stdinWriter = w
            if data.isEmpty { run.fds.close(w); stdinWriter = -1 }
        }
        var joinFd: Int32 = -1
        if case .join(let path) = config.network { joinFd = try run.fds.open(path, O_RDONLY) }

        let arena = CArena()
        var c = cConfig(config, steps: steps, identity: identity, slot: slot, arena: arena, rootFileBytes: nil)
        c.path = UnsafePointer(arena.string(executable))
        c.join_netns_fd = joinFd
        c.stdin_fd = stdinFd
        c.stdout_fd = outWrite
        c.stderr_fd = errWrite

        var spawned = wd_spawned()
        // Cloned from this thread, which waits here until the jail has ended:
        // the parent-death signal (sent when the cloning *thread* exits) cannot
        // fire early, and no hop to another thread delays the start.
        let rc = wd_spawn(&c, &spawned)
        withExtendedLifetime(arena) {}
        if rc != 0 {
            return JailOutcome(result: .setupError(explain(Self.message(of: spawned), errno: spawned.error_errno, identity: identity),
                                                   wallMs: Clock.elapsedMs(since: start)),
                               stdout: [], stderr: [])
        }
        // The child holds its own copies now.
        run.fds.close(outWrite)
        run.fds.close(errWrite)
        if case .fileDescriptor = stdin {} else { run.fds.close(stdinFd) }
        run.fds.adopt(spawned.pidfd)
        run.fds.adopt(spawned.report_fd)
        var pendingInput: [UInt8] = []
        if case .bytes(let data) = stdin { pendingInput = data }
        return supervise(&run, config: config, pid: spawned.pid, pidfd: spawned.pidfd, report: spawned.report_fd,
                         stdout: outRead, stderr: errRead, stdinWriter: stdinWriter, input: pendingInput,
                         keepOutput: keepOutput, cancellation: cancellation, onStarted: onStarted, onOutput: onOutput,
                         start: start)
    }

    /// Watches a started jail to its end and builds the outcome.
    func supervise(_ run: inout StartedRun, config: JailConfig, pid: Int32, pidfd: Int32, report reportFd: Int32,
                   stdout: Int32, stderr: Int32, stdinWriter: Int32, input: [UInt8], keepOutput: Bool,
                   cancellation: JailCancellation?, onStarted: (() -> Void)?,
                   onOutput: ((OutputStream, UnsafeRawBufferPointer) -> Void)?, start: UInt64) -> JailOutcome {
        let setupMs = Clock.elapsedMs(since: start)
        cancellation?.attach(pidfd, pid: pid)
        defer { cancellation?.detach() }
        onStarted?()

        // The supervision closes the stdin writer (the payload's EOF) itself. The run
        // has ended when init reports (or, killed, closes its end of the report pipe).
        var watch = Supervision(pidfd: pidfd, ended: reportFd, stdout: stdout, stderr: stderr,
                                stdinWriter: run.fds.take(stdinWriter),
                                limits: config.limits, slot: run.slot, start: start, keepOutput: keepOutput)
        watch.pendingInput = input
        watch.run(onOutput: onOutput)

        let report = readReport(reportFd)
        let wallMs = Clock.elapsedMs(since: start)
        let usage = run.slot?.usage()
        // Init has reaped every process of the jail before it reported; its own
        // exit need not hold the result. A named cgroup is the caller's to
        // remove once this returns, so its init is waited for.
        if run.slot == nil || run.pooled, wd_pidfd_wait(pidfd, 0) == 0, let reaper = JailReaper.shared {
            cancellation?.detach()
            run.handOff(pid: pid, pidfd: pidfd, to: reaper, pool: cgroups)
        } else {
            _ = wd_reap(pid)
        }
        var result = ResultBuilder(report: report, usage: usage, watch: watch, wallMs: wallMs,
                                   cgroupCPU: run.slot?.accountsCPU ?? false).build()
        result.setupMs = setupMs
        if cancellation?.isCancelled == true, watch.killedFor == nil, result.status == .signaled {
            result.message = "cancelled by the caller"
        }
        return JailOutcome(result: result, stdout: watch.stdoutData, stderr: watch.stderrData)
    }

    /// The C description of a jail, but for its program and descriptors.
    /// `rootFileBytes` sizes an armed root for files not known yet.
    func cConfig(_ config: JailConfig, steps: [MountStep], identity: IdentityPlan, slot: CgroupSlot?,
                 arena: CArena, rootFileBytes: Int?) -> wd_config {
        let mounts = steps.map { step -> wd_mount in
            var m = wd_mount()
            m.kind = step.kind
            m.source = arena.optionalString(step.source)
            m.is_dir = step.isDirectory ? 1 : 0
            m.flags = step.flags
            m.mode = step.mode
            m.target = UnsafePointer(arena.string(step.target))
            m.fd = step.fd
            if let data = step.data {
                m.data = UnsafePointer(arena.bytes(data))
                m.data_len = data.count
            }
            return m
        }
        let rlimits = rlimitList(config.limits, slot: slot)
        let procsFds = slot?.procsFds ?? []
        let environment = config.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }

        var c = wd_config()
        c.argv = UnsafePointer(arena.stringArray([config.command] + config.arguments))
        c.envp = UnsafePointer(arena.stringArray(environment))
        c.cwd = UnsafePointer(arena.string(config.workingDirectory))
        c.hostname = UnsafePointer(arena.string(config.hostname))
        c.staging_dir = UnsafePointer(arena.string("/tmp"))
        // The root holds the generated /etc and the config's files; nothing else writes to it.
        let rootBytes = (1 << 20) + (rootFileBytes ?? config.files.reduce(0) { $0 + $1.contents.count })
        c.root_options = UnsafePointer(arena.string("size=\(rootBytes),mode=0755"))
        c.root_readonly = 1
        c.mounts = UnsafePointer(arena.array(mounts))
        c.n_mounts = mounts.count
        c.rlimits = UnsafePointer(arena.array(rlimits))
        c.n_rlimits = rlimits.count
        if let program = config.seccomp {
            let bpf = arena.array(program.bytes)
            c.bpf = UnsafeRawPointer(bpf)
            c.bpf_len = program.instructionCount
            c.seccomp_notify = program.reportsKills ? 1 : 0
        }
        c.new_net = config.network == .isolated ? 1 : 0
        c.join_netns_fd = -1
        c.listener_sock = config.loopbackListener?.channel ?? -1
        c.listener_port = config.loopbackListener?.port ?? 0
        c.cgroup_v2_fd = slot?.directoryFd ?? -1
        c.cgroup_procs_fds = UnsafePointer(arena.array(procsFds))
        c.n_cgroup_procs = procsFds.count
        c.uid_map = UnsafePointer(arena.string(identity.uidMap))
        c.gid_map = UnsafePointer(arena.string(identity.gidMap))
        c.deny_setgroups = identity.denySetgroups ? 1 : 0
        c.init_uid = identity.initUid
        c.init_gid = identity.initGid
        c.uid = config.uid
        c.gid = config.gid
        c.cap_last = HostFacts.lastCapability
        c.keep_caps = config.keepCapabilities ? 1 : 0
        c.extra_fds = UnsafePointer(arena.array(config.extraFileDescriptors))
        c.n_extra_fds = config.extraFileDescriptors.count
        c.new_session = 1
        c.arm_fd = -1
        c.call_fd = -1
        return c
    }

    static func message(of spawned: wd_spawned) -> String {
        withUnsafeBytes(of: spawned.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    func cgroupSlot(for config: JailConfig) throws(SandboxError) -> CgroupSlot? {
        guard let pool = cgroups else { return nil }
        guard let name = config.cgroupName else { return try pool.acquire() }
        return try Self.namedSlot(name, host: pool.host)
    }

    /// The cgroup `name` (a path relative to the hierarchy), made when missing.
    static func namedSlot(_ name: String, host: CgroupHost) throws(SandboxError) -> CgroupSlot {
        guard !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else {
            throw SandboxError.invalidConfig("cgroup name \(name) must be a relative path without '..'")
        }
        let parts = name.split(separator: "/").map(String.init)
        return try CgroupSlot(host: host, parent: parts.dropLast().joined(separator: "/"),
                              name: parts.last ?? name, createParents: true)
    }

    func rlimitList(_ limits: Limits, slot: CgroupSlot?) -> [wd_rlimit] {
        var list = [
            wd_rlimit(resource: Int32(RLIMIT_CORE.rawValue), soft: 0, hard: 0),
            wd_rlimit(resource: Int32(RLIMIT_NOFILE.rawValue), soft: UInt64(limits.openFiles), hard: UInt64(limits.openFiles)),
        ]
        if let fsize = limits.fileSizeBytes {
            list.append(wd_rlimit(resource: Int32(RLIMIT_FSIZE.rawValue), soft: UInt64(fsize), hard: UInt64(fsize)))
        }
        if let stack = limits.stackBytes {
            list.append(wd_rlimit(resource: Int32(RLIMIT_STACK.rawValue), soft: UInt64(stack), hard: UInt64(stack)))
        }
        let cgroupControllers = slot?.host.controllers ?? []
        if let pids = limits.pids, !cgroupControllers.contains("pids") {
            list.append(wd_rlimit(resource: Int32(__RLIMIT_NPROC.rawValue), soft: UInt64(pids), hard: UInt64(pids)))
        }
        if let cpuMs = limits.cpuTimeMs, slot == nil {
            let seconds = UInt64((cpuMs + 999) / 1000)
            list.append(wd_rlimit(resource: Int32(RLIMIT_CPU.rawValue), soft: seconds, hard: seconds + 1))
        }
        return list
    }

    /// Finds the program on the host: the jail's system directories mirror the host's paths.
    func resolve(_ command: String, path: String) throws(SandboxError) -> String {
        if command.contains("/") { return command }
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(command)"
            if access(candidate, X_OK) == 0, !HostFile.isDirectory(candidate) { return candidate }
        }
        throw SandboxError.invalidConfig("command \(command) was not found in the jail's PATH (\(path))")
    }

    private func explain(_ message: String, errno err: Int32, identity: IdentityPlan) -> String {
        if message.hasPrefix("open bind source"), err == EACCES, let base = identity.hostBase {
            return "\(message) (the jail's ids map to host uids from \(base): make the source reachable by them)"
        }
        if message.hasPrefix("clone3"), err == EPERM || err == ENOSPC {
            return "\(message) (user namespaces may be disabled: see /proc/sys/user/max_user_namespaces)"
        }
        return message
    }

    private func readReport(_ fd: Int32) -> wd_report? {
        var report = wd_report()
        let n = withUnsafeMutableBytes(of: &report) { raw -> Int in
            var got = 0
            while got < raw.count {
                let r = read(fd, raw.baseAddress! + got, raw.count - got)
                if r < 0 && errno == EINTR { continue }
                if r <= 0 { break }
                got += r
            }
            return got
        }
        return n == MemoryLayout<wd_report>.size ? report : nil
    }
}

/// What one run owns until it ends: its descriptors and its cgroup slot. A
/// pooled slot goes back to the pool when the run ends or, when its init is
/// still exiting, once the reaper has reaped it; a named one is only closed.
struct StartedRun {
    var fds = DescriptorSet()
    let slot: CgroupSlot?
    let pooled: Bool
    private var handedOff = false

    init(slot: CgroupSlot?, pooled: Bool) {
        self.slot = slot
        self.pooled = pooled
    }

    /// The init goes to the reaper, which gives the slot back once it has ended.
    mutating func handOff(pid: Int32, pidfd: Int32, to reaper: JailReaper, pool: CgroupPool?) {
        handedOff = true
        let slot = self.slot
        reaper.reap(pid: pid, pidfd: fds.take(pidfd)) {
            if let slot { pool?.release(slot) }
        }
    }

    mutating func finish(pool: CgroupPool?) {
        fds.closeAll()
        guard let slot, !handedOff else { return }
        if pooled { pool?.release(slot) } else { slot.close() }
    }
}

/// Descriptors opened for one run, closed together unless handed on.
struct DescriptorSet {
    private var open: [Int32] = []

    mutating func pipe() throws(SandboxError) -> (Int32, Int32) {
        var p: [Int32] = [0, 0]
        if wd_pipe_cloexec(&p) < 0 { throw SandboxError.system("pipe", errno: errno) }
        open += p
        return (p[0], p[1])
    }

    /// A connected pair of Unix stream sockets, close-on-exec.
    mutating func socketPair() throws(SandboxError) -> (Int32, Int32) {
        var p: [Int32] = [0, 0]
        if socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &p) < 0 {
            throw SandboxError.system("socketpair", errno: errno)
        }
        open += p
        return (p[0], p[1])
    }

    mutating func open(_ path: String, _ flags: Int32) throws(SandboxError) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC)
        if fd < 0 { throw SandboxError.system("open \(path)", errno: errno) }
        open.append(fd)
        return fd
    }

    mutating func adopt(_ fd: Int32) { if fd >= 0 { open.append(fd) } }

    /// Hands a descriptor over to a new owner: it is no longer closed here.
    mutating func take(_ fd: Int32) -> Int32 {
        if let i = open.firstIndex(of: fd) { open.remove(at: i) }
        return fd
    }

    mutating func close(_ fd: Int32) {
        if let i = open.firstIndex(of: fd) {
            open.remove(at: i)
            Glibc.close(fd)
        }
    }

    mutating func closeAll() {
        for fd in open { Glibc.close(fd) }
        open.removeAll()
    }
}

enum Clock {
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func elapsedMs(since start: UInt64) -> Double { Double(now() &- start) / 1_000_000 }
}
