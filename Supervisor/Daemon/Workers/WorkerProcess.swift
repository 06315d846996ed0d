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
    let cancellation: JailCancellation
    let startedAt: Date
    let reply: HelloReply
    private let stopping = Mutex(false)

    private init(tenantID: String, connection: WorkerConnection, cancellation: JailCancellation, reply: HelloReply) {
        self.tenantID = tenantID
        self.connection = connection
        self.cancellation = cancellation
        self.reply = reply
        startedAt = Date()
    }

    /// True once the supervisor asked it to stop (an exit then is not a crash).
    var isStopping: Bool { stopping.withLock { $0 } }

    /// Starts the worker in the tenant's jail and completes the handshake.
    /// `onExit` runs once, on the jail's thread, when the worker has ended.
    static func start(tenant: Tenant, workspace: String, settings: WorkerSettings, jail: Jail, logger: Logger,
                      onExit: @escaping @Sendable (JailResult) -> Void) throws -> WorkerProcess {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw POSIXFailure("socketpair for the worker")
        }
        let (ours, theirs) = (pair[0], pair[1])
        let config = try jailConfig(tenant: tenant, workspace: workspace, settings: settings, jail: jail, socket: theirs)
        let cancellation = JailCancellation()
        let connection = WorkerConnection(fd: ours)
        let theirsOpen = Mutex(true)
        let closeTheirs: @Sendable () -> Void = {
            theirsOpen.withLock { open in
                if open { Glibc.close(theirs); open = false }
            }
        }

        let thread = Thread {
            let outcome = jail.run(config, stdin: .null, keepOutput: false, cancellation: cancellation) { stream, chunk in
                let text = String(decoding: chunk, as: UTF8.self).trimmingCharacters(in: .newlines)
                if !text.isEmpty { logger.info("worker output", metadata: ["tenant_id": "\(tenant.id)", "text": "\(text)"]) }
            }
            closeTheirs()
            connection.close()
            onExit(outcome.result)
            Glibc.close(ours)
        }
        thread.name = "worker-jail"
        thread.start()

        // A worker that never answers must not hold the caller forever.
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(ours, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let reply: HelloReply
        do {
            reply = try connection.handshake(Hello(tenant: tenant.id, maxCalls: settings.maxCallsPerWorker,
                                                   execProfile: settings.execProfile, workspace: "/workspace"))
        } catch {
            cancellation.cancel()
            throw error
        }
        var none = timeval(tv_sec: 0, tv_usec: 0)
        setsockopt(ours, SOL_SOCKET, SO_RCVTIMEO, &none, socklen_t(MemoryLayout<timeval>.size))
        // The worker has its copy; ours must go so that its death reads as end of stream.
        closeTheirs()
        connection.startReading { reason in
            logger.debug("worker connection closed", metadata: ["tenant_id": "\(tenant.id)", "reason": "\(reason)"])
        }
        return WorkerProcess(tenantID: tenant.id, connection: connection, cancellation: cancellation, reply: reply)
    }

    /// The tenant jail: the tenant's id range, every namespace, loopback only,
    /// the tenant cgroup (delegated), the workspace, and the worker profile.
    private static func jailConfig(tenant: Tenant, workspace: String, settings: WorkerSettings, jail: Jail,
                                   socket: Int32) throws -> JailConfig {
        var c = JailConfig(command: WorkerSettings.binaryInJail)
        c.hostname = "warden-" + tenant.id
        c.binds = [Bind(source: settings.binary, target: WorkerSettings.binaryInJail),
                   Bind(source: workspace, target: "/workspace", writable: true)]
        c.workingDirectory = "/"
        c.keepCapabilities = true
        c.uid = 0
        c.gid = 0
        c.network = .isolated
        c.seccomp = settings.workerProfile
        c.extraFileDescriptors = [socket]
        c.tmpSizeBytes = 256 << 20
        c.environment["WARDEN_TENANT"] = tenant.id
        c.limits = Limits(memoryBytes: settings.tenantMemoryBytes, pids: settings.tenantPids,
                          outputBytes: 1 << 20, openFiles: 4096)
        if settings.rootMode {
            c.identity = .range(base: UInt32(tenant.hostIDBase), count: UInt32(tenant.hostIDCount))
            if let host = jail.cgroups?.host {
                let cgroup = TenantCgroup(host: host, scope: settings.cgroupScope, tenantID: tenant.id)
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
    func stop(graceMs: Int = 2000) {
        stopping.withLock { $0 = true }
        connection.shutdown(graceMs: graceMs)
        let cancellation = self.cancellation
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(graceMs + 1000)) { cancellation.cancel() }
    }

    /// Kills the worker's jail at once.
    func kill() {
        stopping.withLock { $0 = true }
        cancellation.cancel()
    }
}
