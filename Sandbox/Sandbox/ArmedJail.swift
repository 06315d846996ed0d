import CSandbox
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A jail started ahead of its call: cloned into its namespaces and cgroup
/// slot, its root assembled, its init waiting. Firing it sends the call's
/// program, arguments, environment, files and rlimits; only the payload's
/// own start remains. Nothing of a call is in it before it is fired, and
/// each is fired once.
final class ArmedJail: @unchecked Sendable {
    let template: ArmTemplate
    let slot: CgroupSlot?
    let pid: Int32
    let pidfd: Int32
    let report: Int32
    let errors: Int32
    let fire: Int32
    let call: Int32
    let stdout: Int32
    let stderr: Int32
    let stdinWriter: Int32
    /// Every descriptor above, until the run takes them or the jail is discarded.
    var fds: DescriptorSet

    init(template: ArmTemplate, slot: CgroupSlot?, spawned: wd_spawned, fire: Int32, call: Int32,
         stdout: Int32, stderr: Int32, stdinWriter: Int32, fds: DescriptorSet) {
        self.template = template
        self.slot = slot
        pid = spawned.pid
        pidfd = spawned.pidfd
        report = spawned.report_fd
        errors = spawned.error_fd
        self.fire = fire
        self.call = call
        self.stdout = stdout
        self.stderr = stderr
        self.stdinWriter = stdinWriter
        self.fds = fds
        self.fds.adopt(pidfd)
        self.fds.adopt(report)
        self.fds.adopt(errors)
    }

    /// Whether the init has built the root and waits for its call.
    var isWaiting: Bool {
        var p = pollfd(fd: fire, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) == 1
    }

    /// Kills the waiting init; its slot goes back to the pool once it is reaped.
    func discard(pool: CgroupPool?) {
        _ = wd_pidfd_signal(pidfd, SIGKILL)
        let slot = self.slot
        if let reaper = JailReaper.shared {
            reaper.reap(pid: pid, pidfd: fds.take(pidfd)) { if let slot { pool?.release(slot) } }
        } else {
            _ = wd_reap(pid)
            if let slot { pool?.release(slot) }
        }
        fds.closeAll()
    }
}

/// What an armed jail was made for: every part of a configuration that the
/// jail takes before its call. The rest (program, arguments, environment,
/// working directory, files, limits) comes with the call.
struct ArmTemplate: Equatable {
    var hostname: String
    var binds: [Bind]
    var systemDirectories: [String]
    var etcEntries: [String]
    var tmpSizeBytes: Int
    var shmSizeBytes: Int
    var devPts: Bool
    var identity: Identity
    var uid: UInt32
    var gid: UInt32
    var keepCapabilities: Bool
    var seccomp: SeccompProgram?

    init(_ config: JailConfig) {
        hostname = config.hostname
        binds = config.binds
        systemDirectories = config.systemDirectories
        etcEntries = config.etcEntries
        tmpSizeBytes = config.tmpSizeBytes
        shmSizeBytes = config.shmSizeBytes
        devPts = config.devPts
        identity = config.identity
        uid = config.uid
        gid = config.gid
        keepCapabilities = config.keepCapabilities
        seccomp = config.seccomp
    }
}

/// Keeps one jail armed for the runs of one kind of configuration (a
/// worker's exec calls): a run that finds it ready skips the jail's set-up,
/// and the next is armed in the background meanwhile. Runs that do not fit
/// (a network of their own, descriptors of the caller's, a named cgroup) and
/// runs that find none ready start a jail of their own, as without arming.
public final class JailArming: Sendable {
    /// Room in an armed root for the files of its call; runs with more start their own jail.
    static let fileBytes = 8 << 20
    /// Arming stops after this many failed arms in a row (a host where it cannot work).
    static let maxFailures = 3
    /// Arming starts with the second run that fits: a worker that runs one
    /// call and goes idle would only pay for a jail it never uses.
    static let runsBeforeArming = 2

    private struct State {
        var ready: ArmedJail?
        var arming = false
        var failures = 0
        var stopped = false
        var fired = 0
        var started = 0
    }

    let jail: Jail
    private let state = Mutex(State())

    public init(jail: Jail) {
        self.jail = jail
    }

    /// Whether a run can use an armed jail at all.
    static func fits(_ config: JailConfig, stdin: JailInput) -> Bool {
        if case .fileDescriptor = stdin { return false }
        return config.network == .inherit && config.loopbackListener == nil && config.extraFileDescriptors.isEmpty
            && config.attachedMounts.isEmpty && config.cgroupName == nil
            && config.files.reduce(0) { $0 + $1.contents.count } <= fileBytes
    }

    /// The armed jail, when one is ready for `config`.
    func take(for config: JailConfig) -> ArmedJail? {
        guard let ready = state.withLock({ s -> ArmedJail? in defer { s.ready = nil }; return s.ready }) else { return nil }
        guard ready.template == ArmTemplate(config) else {
            ready.discard(pool: jail.cgroups)
            return nil
        }
        return ready
    }

    /// Arms a jail for runs like `config` in the background, unless one is
    /// ready or being armed, or this is the first run. Called once a run's
    /// payload has started, so that arming does not compete with that run's
    /// own set-up.
    func armNext(_ config: JailConfig) {
        let arm = state.withLock { s -> Bool in
            s.started += 1
            guard s.started >= Self.runsBeforeArming, s.ready == nil, !s.arming, !s.stopped,
                  s.failures < Self.maxFailures else { return false }
            s.arming = true
            return true
        }
        if arm { armInBackground(config) }
    }

    func succeeded() {
        state.withLock { s in
            s.failures = 0
            s.fired += 1
        }
    }

    /// Runs that took an armed jail.
    public var firedCount: Int { state.withLock { $0.fired } }

    /// Whether a jail is armed, its root built, waiting for its call.
    public var isReady: Bool { state.withLock { $0.ready?.isWaiting ?? false } }

    /// Discards the armed jail and arms no more.
    public func stop() {
        let ready = state.withLock { s -> ArmedJail? in
            s.stopped = true
            defer { s.ready = nil }
            return s.ready
        }
        ready?.discard(pool: jail.cgroups)
    }

    private func armInBackground(_ config: JailConfig) {
        let jail = self.jail
        // On the thread that lives as long as the process: the init's
        // parent-death signal fires when its cloning thread ends.
        SpawnThread.shared.submit { [self] in
            let armed = try? jail.arm(config)
            let discard = state.withLock { s -> ArmedJail? in
                s.arming = false
                if armed == nil { s.failures += 1 }
                guard !s.stopped else { return armed }
                s.ready = armed
                return nil
            }
            discard?.discard(pool: jail.cgroups)
        }
    }
}

extension Jail {
    /// Starts a jail for runs like `config` and leaves it waiting for its call.
    func arm(_ config: JailConfig) throws(SandboxError) -> ArmedJail {
        var template = config
        template.files = []
        let steps = try RootLayout.steps(for: template)
        let identity = try IdentityPlan.make(for: template, isRoot: facts.isRoot)
        let slot = try cgroupSlot(for: template)
        var fds = DescriptorSet()
        var spawned = wd_spawned()
        do throws(SandboxError) {
            let (outRead, outWrite) = try fds.pipe()
            let (errRead, errWrite) = try fds.pipe()
            let (inRead, inWrite) = try fds.pipe()
            let (fireWorker, fireInit) = try fds.socketPair()
            let call = wd_memfd("warden-call")
            if call < 0 { throw SandboxError.system("memfd for an armed jail's call", errno: errno) }
            fds.adopt(call)

            let arena = CArena()
            var c = cConfig(template, steps: steps, identity: identity, slot: slot, arena: arena,
                            rootFileBytes: JailArming.fileBytes)
            c.path = UnsafePointer(arena.string("/"))
            c.stdin_fd = inRead
            c.stdout_fd = outWrite
            c.stderr_fd = errWrite
            c.armed = 1
            c.arm_fd = fireInit
            c.call_fd = call
            let rc = wd_spawn(&c, &spawned)
            withExtendedLifetime(arena) {}
            if rc != 0 {
                throw SandboxError.system("arm a jail: \(Self.message(of: spawned))", errno: spawned.error_errno)
            }
            // The init holds its own copies now.
            for fd in [outWrite, errWrite, inRead, fireInit] { fds.close(fd) }
            return ArmedJail(template: ArmTemplate(config), slot: slot, spawned: spawned,
                             fire: fireWorker, call: call, stdout: outRead, stderr: errRead, stdinWriter: inWrite, fds: fds)
        } catch {
            fds.closeAll()
            if let slot { cgroups?.release(slot) }
            throw error
        }
    }

    /// Runs `config` in an armed jail. nil when the jail could not take the
    /// call (it is discarded then, and the caller starts a jail of its own).
    func fire(_ armed: ArmedJail, _ config: JailConfig, stdin: JailInput, keepOutput: Bool,
              cancellation: JailCancellation?, onStarted: (() -> Void)?,
              onOutput: ((OutputStream, UnsafeRawBufferPointer) -> Void)?, start: UInt64) -> JailOutcome? {
        let message: [UInt8]
        do throws(SandboxError) {
            let executable = try resolve(config.command, path: config.environment["PATH"] ?? "/usr/bin:/bin")
            try RootLayout.checkFiles(of: config)
            try armed.slot?.prepare(config.limits)
            let environment = config.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            message = CallMessage.encode(path: executable, cwd: config.workingDirectory,
                                         argv: [config.command] + config.arguments, envp: environment,
                                         files: config.files, rlimits: rlimitList(config.limits, slot: armed.slot))
            try Self.write(message, to: armed.call)
        } catch {
            armed.discard(pool: cgroups)
            return nil
        }
        var spawned = wd_spawned()
        guard wd_fire(armed.fire, armed.errors, &spawned) == 0 else {
            armed.discard(pool: cgroups)
            return nil
        }
        var run = StartedRun(slot: armed.slot, pooled: true)
        run.fds = armed.fds
        armed.fds = DescriptorSet()
        defer { run.finish(pool: cgroups) }
        for fd in [armed.fire, armed.call, armed.errors] { run.fds.close(fd) }
        var input: [UInt8] = []
        if case .bytes(let data) = stdin { input = data }
        var stdinWriter = armed.stdinWriter
        if input.isEmpty {
            run.fds.close(stdinWriter)
            stdinWriter = -1
        }
        return supervise(&run, config: config, pid: armed.pid, pidfd: armed.pidfd, report: armed.report,
                         stdout: armed.stdout, stderr: armed.stderr, stdinWriter: stdinWriter, input: input,
                         keepOutput: keepOutput, cancellation: cancellation, onStarted: onStarted, onOutput: onOutput,
                         start: start)
    }

    private static func write(_ bytes: [UInt8], to fd: Int32) throws(SandboxError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { throw SandboxError.system("write an armed jail's call", errno: n < 0 ? errno : EIO) }
            done += n
        }
    }
}
