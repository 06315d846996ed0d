import Foundation
import Logging
import Sandbox
import Store
import Synchronization
import WorkerProtocol

/// One tenant's running worker: its jail, alive on a thread of its own for
/// as long as the worker runs, and the connection to it.
final class WorkerProcess: Sendable {
    let tenantID: String
    let connection: WorkerConnection
    /// The worker's egress channel: its jails' listeners, served by the proxy.
    let egress: WorkerEgress
    let cancellation: JailCancellation
    let startedAt: Date
    let reply: HelloReply
    /// How its workspace is held (which says how full it can get).
    let storage: WorkspaceStorage
    private let stopping = Mutex<StopReason?>(nil)

    /// Why the supervisor stopped a worker. Calls it cuts short because the
    /// tenant was suspended or deleted answer as a new call of that tenant would.
    enum StopReason: Sendable, Equatable {
        case requested
        case tenant(TenantStatus)
        /// This node lost the tenant's lease: another node may run the tenant now.
        case leaseLost
    }

    /// The tenant's workspace: a host directory bound in, or an image file
    /// mounted inside the jail's own mount namespace (root).
    enum Workspace: Sendable {
        case directory(String)
        case image(String)

        var storage: WorkspaceStorage {
            if case .image = self { return .filesystem }
            return .directory
        }
    }

    private init(tenantID: String, connection: WorkerConnection, egress: WorkerEgress, cancellation: JailCancellation,
                 reply: HelloReply, storage: WorkspaceStorage) {
        self.tenantID = tenantID
        self.egress = egress
        self.storage = storage
        self.connection = connection
        self.cancellation = cancellation
        self.reply = reply
        startedAt = Date()
    }

    /// True once the supervisor asked it to stop (an exit then is not a crash).
    var isStopping: Bool { stopReason != nil }

    var stopReason: StopReason? { stopping.withLock { $0 } }

    /// Starts the worker in the tenant's jail and completes the handshake.
    /// `onExit` runs once, on the jail's thread, when the worker has ended.
    static func start(tenant: Tenant, workspace: Workspace, settings: WorkerSettings, jail: Jail, proxy: EgressProxy?,
                      logger: Logger, onExit: @escaping @Sendable (JailResult) -> Void) throws -> WorkerProcess {
        // Mounted nowhere until the jail attaches it; ours closes once the jail has started.
        var mount: DetachedMount?
        if case .image(let image) = workspace { mount = try DetachedMount(image: image, options: WorkspaceImage.mountOptions) }
        defer { withExtendedLifetime(mount) {} }
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw POSIXFailure("socketpair for the worker")
        }
        let (ours, theirs) = (pair[0], pair[1])
        // The egress channel: packets, each a message with at most one listener attached.
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            Glibc.close(ours)
            Glibc.close(theirs)
            throw POSIXFailure("socketpair for the worker's egress channel")
        }
        let (egressOurs, egressTheirs) = (pair[0], pair[1])
        let cgroup = settings.rootMode ? jail.cgroups.map { TenantCgroup(host: $0.host, scope: settings.cgroupScope, tenantID: tenant.id) } : nil
        let config: JailConfig
        do {
            config = try jailConfig(tenant: tenant, workspace: workspace, mount: mount, settings: settings, cgroup: cgroup,
                                    socket: theirs, egress: egressTheirs)
        } catch {
            cgroup?.remove()
            for fd in [ours, theirs, egressOurs, egressTheirs] { Glibc.close(fd) }
            throw error
        }
        let cancellation = JailCancellation()
        let connection = WorkerConnection(fd: ours)
        let theirsOpen = Mutex(true)
        let closeTheirs: @Sendable () -> Void = {
            theirsOpen.withLock { open in
                if open { Glibc.close(theirs); Glibc.close(egressTheirs); open = false }
            }
        }
        let egress = WorkerEgress(fd: egressOurs, proxy: proxy, tenantID: tenant.id, logger: logger)
        // Reads until the worker's end closes (the worker is gone), then closes ours.
        egress.startReading()
        let ended = DispatchSemaphore(value: 0)

        let thread = Thread {
            let outcome = jail.run(config, stdin: .null, keepOutput: false, cancellation: cancellation) { stream, chunk in
                let text = String(decoding: chunk, as: UTF8.self).trimmingCharacters(in: .newlines)
                if !text.isEmpty { logger.info("worker output", metadata: ["tenant_id": "\(tenant.id)", "text": "\(text)"]) }
            }
            closeTheirs()
            connection.close()
            // The tenant cgroup goes with its worker, however the worker ended
            // (stopped, crashed, or failed before it finished its handshake).
            cgroup?.remove()
            onExit(outcome.result)
            Glibc.close(ours)
            ended.signal()
        }
        thread.name = "worker-jail"
        thread.start()

        // A worker that never answers must not hold the caller forever.
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(ours, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let reply: HelloReply
        do {
            var browser = settings.browser
            browser?.memoryBytes = WorkerSettings.browserMemory(ofTenant: settings.tenantMemoryBytes)
            reply = try connection.handshake(Hello(tenant: tenant.id, maxCalls: settings.maxCallsPerWorker,
                                                   execProfile: settings.execProfile, workspace: "/workspace",
                                                   storage: workspace.storage, browser: browser))
        } catch {
            cancellation.cancel()
            // Wait until the jail is gone and its cgroup removed: a retry must
            // not meet the remains of this attempt.
            if ended.wait(timeout: .now() + 10) == .timedOut {
                logger.error("a worker that failed its handshake did not end", metadata: ["tenant_id": "\(tenant.id)"])
            }
            throw error
        }
        var none = timeval(tv_sec: 0, tv_usec: 0)
        setsockopt(ours, SOL_SOCKET, SO_RCVTIMEO, &none, socklen_t(MemoryLayout<timeval>.size))
        // The worker has its copy; ours must go so that its death reads as end of stream.
        closeTheirs()
        connection.startReading { reason in
            logger.debug("worker connection closed", metadata: ["tenant_id": "\(tenant.id)", "reason": "\(reason)"])
        }
        return WorkerProcess(tenantID: tenant.id, connection: connection, egress: egress, cancellation: cancellation,
                             reply: reply, storage: workspace.storage)
    }

    /// The tenant jail: the tenant's id range, every namespace, loopback only,
    /// the tenant cgroup (delegated), the workspace, and the worker profile.
    private static func jailConfig(tenant: Tenant, workspace: Workspace, mount: DetachedMount?, settings: WorkerSettings,
                                   cgroup: TenantCgroup?, socket: Int32, egress: Int32) throws -> JailConfig {
        var c = JailConfig(command: WorkerSettings.binaryInJail)
        c.hostname = "warden-" + tenant.id
        c.binds = [Bind(source: settings.binary, target: WorkerSettings.binaryInJail)]
        // The browser's font cache (without it every start of the browser rebuilds one).
        if settings.browser != nil, FileManager.default.fileExists(atPath: BrowserSettings.fontCache) {
            c.binds.append(Bind(source: BrowserSettings.fontCache))
        }
        switch workspace {
        case .directory(let path): c.binds.append(Bind(source: path, target: "/workspace", writable: true))
        case .image: c.attachedMounts = mount.map { [AttachedMount(fd: $0.fd, target: "/workspace")] } ?? []
        }
        c.workingDirectory = "/"
        c.keepCapabilities = true
        c.uid = 0
        c.gid = 0
        c.network = .isolated
        c.seccomp = settings.workerProfile
        // fd 3: the worker protocol; fd 4: the egress channel.
        c.extraFileDescriptors = [socket, egress]
        c.tmpSizeBytes = 256 << 20
        c.environment["WARDEN_TENANT"] = tenant.id
        // Read by nobody: names the tenant in ps and /proc on the host.
        c.arguments = ["--tenant", tenant.id]
        c.limits = Limits(memoryBytes: settings.tenantMemoryBytes, pids: settings.tenantPids, cpus: settings.tenantCpus,
                          outputBytes: 1 << 20, openFiles: 4096)
        if settings.rootMode {
            c.identity = .range(base: UInt32(tenant.hostIDBase), count: UInt32(tenant.hostIDCount))
            if let cgroup {
                try cgroup.prepare(owner: UInt32(tenant.hostIDBase))
                c.cgroupName = cgroup.name
                c.binds += cgroup.binds
            }
        } else {
            c.identity = .callerOnly
        }
        return c
    }

    /// Asks the worker to finish and exit; kills its jail after the grace.
    func stop(graceMs: Int = 2000, reason: StopReason = .requested) {
        stopping.withLock { current in
            // A tenant's suspension outranks a stop already under way (idle, restart).
            if current == nil || reason != .requested { current = reason }
        }
        connection.shutdown(graceMs: graceMs)
        let cancellation = self.cancellation
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(graceMs + 1000)) { cancellation.cancel() }
    }

    /// Kills the worker's jail at once.
    func kill(reason: StopReason = .requested) {
        stopping.withLock { current in
            if current == nil || reason != .requested { current = reason }
        }
        cancellation.cancel()
    }
}
