import Foundation
import Hummingbird
import Logging
import NIOCore
import Sandbox
import ServiceLifecycle
import Store
#if canImport(Glibc)
import Glibc
#endif

/// `warden serve`: the tenant API on TCP and the admin API on a Unix socket,
/// run together under one service group with graceful shutdown.
public final class Daemon: Sendable {
    public let configuration: SupervisorConfiguration
    public let layout: StateLayout
    private let store: any Store
    private let lock: StateLock
    private let serviceGroup: ServiceGroup
    private let listening = ListeningAddress()
    private let logger: Logger
    private let workers: WorkerManager
    private let decisions: DecisionServices

    /// Prepares the state directory, takes its lock and opens the store.
    /// `handleSignals` makes SIGTERM and SIGINT start a graceful shutdown;
    /// tests call `shutdown()` instead.
    /// `now` is the metering clock (tests move it across period boundaries).
    public init(configuration: SupervisorConfiguration, logger: Logger, handleSignals: Bool = true,
                now: @escaping @Sendable () -> Date = Date.init) throws {
        self.configuration = configuration
        self.logger = logger
        layout = StateLayout(root: configuration.stateDirectory)
        try layout.prepare()
        lock = try StateLock(path: layout.lockFile)
        let ranges = HostIDRanges(base: configuration.hostIDBase, size: configuration.hostIDCount)
        switch configuration.store {
        case .sqlite:
            store = try SQLiteStore(path: layout.database, hostIDRanges: ranges)
        case .postgres(let connection):
            store = try PostgresStore(connection: connection, hostIDRanges: ranges)
        }
        logger.info("store opened", metadata: ["backend": "\(store.backend)", "store": "\(configuration.store)"])

        // Workers: one jail instance (its cgroup pool) serves every tenant jail.
        let settings = try WorkerSettings.load(configuration: configuration)
        if let browser = settings.browser {
            if settings.rootMode { BrowserWarmup.start(binary: browser.binary, logger: logger) }
        } else if configuration.browserEnabled {
            logger.notice("no browser: \(configuration.browserBinary) is not installed (apt-get install chromium-headless-shell); browser calls answer 503")
        }
        let jail: Jail
        do {
            jail = try Jail(cgroupParent: "warden")
        } catch {
            throw ConfigurationError("cannot prepare jails: \(error)")
        }
        let workers = WorkerManager(settings: settings, jail: jail, layout: layout, logger: logger)
        self.workers = workers
        let execLimits = ExecController.ExecLimits(maxTimeoutMs: configuration.execMaxTimeoutMs,
                                                   maxCpuMs: configuration.execMaxCpuMs,
                                                   maxMemoryMB: configuration.execMaxMemoryMB,
                                                   maxOutputBytes: configuration.execMaxOutputBytes)

        let decisions = try DecisionServices(store: store, configuration: configuration, workers: workers, logger: logger,
                                             now: now)
        self.decisions = decisions
        logger.info("policies loaded", metadata: ["directory": "\(decisions.engine.directory)",
                                                  "files": "\(decisions.engine.summary.files.count)"])

        let hostChecks = HostChecks.read()
        let listening = self.listening
        let layout = self.layout
        let startedAt = Date()
        // IPv6 literals need brackets inside a URL.
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host

        let publicApp = Application(
            router: PublicRoutes.router(store: store, configuration: configuration, hostChecks: hostChecks,
                                        workers: workers, execLimits: execLimits, decisions: decisions,
                                        browser: settings.browser != nil),
            server: .http1(configuration: .init(additionalChannelHandlers: [ClientDisconnectHandler()],
                                                idleTimeout: .milliseconds(Int64(configuration.idleTimeoutSeconds * 1000)))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "warden"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                await listening.set(port: port)
                logger.info("tenant API listening", metadata: ["address": "http://\(host):\(port)"])
            },
            logger: logger)

        var service = TenantService(store: store, layout: layout, logger: logger)
        service.workers = workers
        let adminApp = Application(
            router: AdminRoutes.router(service: service, decisions: decisions, policy: AdminPeerPolicy()) {
                let port = await listening.current ?? 0
                return AdminAPI.Status(version: WardenVersion.current, pid: getpid(), stateDirectory: layout.root,
                                       httpAddress: "http://\(host):\(port)", startedAt: startedAt)
            },
            configuration: .init(address: .unixDomainSocket(path: layout.adminSocket), serverName: "warden-admin"),
            onServerRunning: { _ in
                // The peer check is the real gate; the mode keeps others from even connecting.
                if chmod(layout.adminSocket, 0o600) != 0 {
                    logger.error("cannot restrict the admin socket to mode 0600", metadata: ["path": "\(layout.adminSocket)"])
                }
                logger.info("admin API listening", metadata: ["socket": "\(layout.adminSocket)"])
            },
            logger: logger)

        // Services stop in reverse order, each draining before the next: tenant
        // calls stop first, the admin socket last.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: WorkerService(workers: workers, graceMs: Int(configuration.shutdownGraceSeconds * 1000)),
                  serviceName: "workers"),
            .init(service: adminApp, serviceName: "admin-api"),
            .init(service: publicApp, serviceName: "tenant-api")]
        if handleSignals {
            services.append(.init(service: PolicyReloadService(decisions: decisions, logger: logger), serviceName: "policy-reload"))
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
            logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .milliseconds(Int64(configuration.shutdownGraceSeconds * 1000))
        serviceGroup = ServiceGroup(configuration: groupConfiguration)

        logger.info("host checks", metadata: [
            "kernel": "\(hostChecks.kernel)", "cgroup_version": "\(hostChecks.cgroupVersion)",
            "user_namespaces": "\(hostChecks.userNamespaces)", "seccomp": "\(hostChecks.seccomp)",
            "root_mode": "\(hostChecks.rootMode)"])
        if geteuid() != 0 {
            logger.notice("running without root: tenants share this user's uid, and workspaces are not chowned to per-tenant ranges")
            logger.notice("running without root: storage.bytes is accounted, not enforced by the kernel: files API writes past it are refused (507), but exec can write past it")
        }
    }

    /// Serves until a signal or `shutdown()`; in-flight requests get up to the
    /// configured grace period to finish.
    public func run() async throws {
        logger.info("warden starting", metadata: ["version": "\(WardenVersion.current)", "state_dir": "\(layout.root)"])
        defer {
            unlink(layout.adminSocket)
            lock.release()
        }
        let meter = decisions.meter
        await workers.setCapsProvider { tenant in await meter.caps(for: tenant) }
        await workers.setEgressProxy(decisions.egress)
        await decisions.meter.reconcile()
        await decisions.approvals.failInterrupted()
        do {
            try await decisions.publishPlans(store)
        } catch {
            logger.error("the store's plans could not be given to the policies; they use their own defaults",
                         metadata: ["error": "\(error)"])
        }
        do {
            try await serviceGroup.run()
        } catch {
            await decisions.egress?.shutdown()
            try? await store.close()
            throw error
        }
        await decisions.egress?.shutdown()
        try await store.close()
        logger.info("warden stopped")
    }

    /// The egress proxy, when it runs.
    var egress: EgressProxy? { decisions.egress }

    public func shutdown() async {
        await serviceGroup.triggerGracefulShutdown()
    }

    /// The bound TCP port, once the tenant API is listening.
    public func waitUntilListening() async -> Int {
        await listening.wait()
    }
}
