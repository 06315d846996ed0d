#if canImport(Glibc)
import Glibc
#endif
import Sandbox
import WorkerProtocol

/// How the tenant's Chromium is jailed: a nested jail of its own (pid, mount,
/// network namespaces), the browser seccomp profile, no capabilities, the
/// tenant's unprivileged id, a cgroup of its own under the tenant's, and the
/// DevTools pipe as fds 3 and 4. Chromium's own sandbox needs namespaces the
/// profile denies, so it runs with `--no-sandbox`: the jail is the sandbox.
struct BrowserJail: Sendable {
    var binary: String
    var seccomp: SeccompProgram
    var memoryBytes: Int?
    var identity: Identity

    /// The named cgroup under the tenant's: its counters say what the browser used.
    static let cgroupName = "browser"
    static let userDataDirectory = "/tmp/chromium"

    /// - Parameter network: the namespace the browser joins (the worker makes
    ///   each page's proxy listener on its loopback); nil: a loopback-only one of its own.
    func configuration(commandFd: Int32, eventFd: Int32, cgroups: Bool, network: NetworkNamespace?) -> JailConfig {
        var config = JailConfig(command: binary, arguments: arguments)
        config.workingDirectory = "/tmp"
        config.extraFileDescriptors = [commandFd, eventFd]
        if access(BrowserSettings.fontCache, R_OK) == 0 { config.binds = [Bind(source: BrowserSettings.fontCache)] }
        config.network = network.map { .join(path: $0.path) } ?? .isolated
        config.identity = identity
        config.uid = ExecTool.payloadID
        config.gid = ExecTool.payloadID
        config.seccomp = seccomp
        config.tmpSizeBytes = 256 << 20
        if cgroups { config.cgroupName = Self.cgroupName }
        config.limits = Limits(memoryBytes: memoryBytes, pids: Self.processes, outputBytes: 1 << 20, openFiles: Self.openFiles)
        return config
    }

    /// Up to 1024 processes and threads: without cgroups (rootless) this is
    /// RLIMIT_NPROC, which may not pass the worker's own hard limit.
    static var processes: Int {
        var limit = rlimit()
        guard getrlimit(Int32(__RLIMIT_NPROC.rawValue), &limit) == 0 else { return 1024 }
        return Int(min(1024, limit.rlim_max))
    }

    /// Up to 4096 descriptors: as many as the worker's own hard limit allows.
    static var openFiles: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return Int(min(4096, limit.rlim_max))
    }

    var arguments: [String] {
        [
            "--remote-debugging-pipe",
            "--no-sandbox",
            "--no-zygote",
            "--user-data-dir=\(Self.userDataDirectory)",
            // Nothing but the tenant's pages may reach the proxy (and count as the tenant's egress).
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-extensions",
            "--disable-sync",
            "--disable-breakpad",
            "--no-pings",
            "--metrics-recording-only",
            "--disable-domain-reliability",
            "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,CertificateTransparencyComponentUpdater",
            // Every tab is in the background of a headless browser: do not slow them down.
            "--disable-background-timer-throttling",
            "--disable-backgrounding-occluded-windows",
            "--disable-renderer-backgrounding",
            "--disable-ipc-flooding-protection",
            "--disable-hang-monitor",
            // Screenshots in plain sRGB without scrollbars, as other drivers take them.
            "--force-color-profile=srgb",
            "--hide-scrollbars",
            "--mute-audio",
            // WebRTC may not send UDP around the proxy (each page's context has its own, see PageProxy).
            "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
        ]
    }
}
