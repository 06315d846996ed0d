/// Everything that describes one jailed run. Defaults give the full default
/// jail: every namespace, a read-only minimal root, no capabilities, the
/// default seccomp profile (set by the caller), and a non-zero uid.
public struct JailConfig: Sendable {
    /// The program: an absolute path, or a name looked up in the jail's PATH.
    public var command: String
    public var arguments: [String]
    /// The environment of the payload; a minimal one by default.
    public var environment: [String: String]
    public var workingDirectory: String
    public var hostname: String

    /// Host paths bound into the jail besides the system directories.
    public var binds: [Bind]
    /// Files written into the jail's own read-only root (a call's code, say):
    /// cheaper than a host file and a bind, and gone with the jail.
    public var files: [JailFile]
    /// Detached mounts (from `DetachedMount`) attached inside the jail's own
    /// mount namespace after the binds; they vanish with the jail.
    public var attachedMounts: [AttachedMount]
    /// Read-only system directories (symlinks among them are recreated as symlinks).
    public var systemDirectories: [String]
    /// Files and directories of the host's /etc shown read-only; missing ones are skipped.
    public var etcEntries: [String]
    public var tmpSizeBytes: Int
    public var shmSizeBytes: Int
    /// A private /dev/pts (for programs that need a terminal).
    public var devPts: Bool

    public var network: Network
    /// With `.isolated`: a TCP socket listening on the jail's 127.0.0.1, made
    /// before the payload starts and handed to the caller (who serves it from
    /// outside the jail). The jail keeps no copy.
    public var loopbackListener: LoopbackListener?
    public var identity: Identity
    /// The payload's uid and gid inside the jail.
    public var uid: UInt32
    public var gid: UInt32

    /// Keep the payload's capabilities inside its own user namespace (they
    /// mean nothing on the host). Only for Warden's worker, which must create
    /// nested jails; tenant code never gets this.
    public var keepCapabilities: Bool

    /// Run in this named cgroup (a path under each hierarchy, such as
    /// "warden/tenants/t_1") instead of a pooled one; it is created when
    /// missing, takes `limits`, and is left in place after the run.
    public var cgroupName: String?

    /// The compiled seccomp filter, or nil for none.
    public var seccomp: SeccompProgram?
    public var limits: Limits
    /// Descriptors that become fds 3, 4, … of the payload (they stay owned by the caller).
    public var extraFileDescriptors: [Int32]

    public init(command: String, arguments: [String] = []) {
        self.command = command
        self.arguments = arguments
        self.environment = [
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": "/tmp",
            "LANG": "C.UTF-8",
            "TMPDIR": "/tmp",
        ]
        self.workingDirectory = "/tmp"
        self.hostname = "warden"
        self.binds = []
        self.files = []
        self.attachedMounts = []
        self.systemDirectories = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"]
        self.etcEntries = [
            "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/resolv.conf",
            "/etc/ssl", "/etc/ca-certificates", "/etc/alternatives", "/etc/localtime",
            "/etc/nsswitch.conf", "/etc/protocols", "/etc/services", "/etc/mime.types",
            "/etc/python3", "/etc/python3.11", "/etc/fonts",
        ]
        self.tmpSizeBytes = 64 << 20
        self.shmSizeBytes = 16 << 20
        self.devPts = false
        self.network = .isolated
        self.loopbackListener = nil
        self.identity = .automatic
        self.uid = 1000
        self.gid = 1000
        self.keepCapabilities = false
        self.cgroupName = nil
        self.seccomp = nil
        self.limits = Limits()
        self.extraFileDescriptors = []
    }
}

public struct JailFile: Sendable, Equatable {
    /// Absolute path inside the jail, outside the mounts of /dev, /proc, /tmp and the binds.
    public var path: String
    public var contents: [UInt8]
    public var mode: UInt32

    public init(path: String, contents: [UInt8], mode: UInt32 = 0o444) {
        self.path = path
        self.contents = contents
        self.mode = mode
    }
}

public struct Bind: Sendable, Equatable {
    public var source: String
    public var target: String
    public var writable: Bool

    public init(source: String, target: String? = nil, writable: Bool = false) {
        self.source = source
        self.target = target ?? source
        self.writable = writable
    }
}

/// A mount descriptor (attached to no namespace) to attach at `target`. The
/// descriptor stays the caller's: keep it open until the jail has started.
public struct AttachedMount: Sendable, Equatable {
    public var fd: Int32
    public var target: String

    public init(fd: Int32, target: String) {
        self.fd = fd
        self.target = target
    }
}

/// Where the jail's listener goes: its init sends it (SCM_RIGHTS) over
/// `channel`, a Unix socket of the caller's (which stays the caller's), from
/// whose other end the caller takes it once the jail has started.
public struct LoopbackListener: Sendable, Equatable {
    public var port: UInt16
    public var channel: Int32

    public init(port: UInt16, channel: Int32) {
        self.port = port
        self.channel = channel
    }
}

public enum Network: Sendable, Equatable {
    /// A new network namespace with only loopback (costs a few ms per run).
    case isolated
    /// Join an existing network namespace (a path such as /run/netns/NAME or
    /// /proc/PID/ns/net); needs root. Lets the calls of one tenant share one.
    case join(path: String)
    /// Keep the caller's network namespace: the host's for a top-level jail,
    /// the tenant's for a jail nested in a worker.
    case inherit
}

public enum Identity: Sendable, Equatable {
    /// Root: a range of host ids starting at 100000; otherwise the caller's own id.
    case automatic
    /// Root only: jail ids 0..<count map to host ids base..<base+count.
    case range(base: UInt32, count: UInt32)
    /// Map only the caller's own uid and gid to the payload's ids (works unprivileged).
    case callerOnly
    /// For a jail inside a jail: jail ids 0..<count map to the same ids of the
    /// caller's user namespace (the caller must be that namespace's root).
    case nested(count: UInt32)
}

public struct Limits: Sendable, Equatable {
    /// Memory of the whole jail (cgroup), swap included; nil = none.
    public var memoryBytes: Int?
    /// Processes and threads of the whole jail (cgroup; rootless: RLIMIT_NPROC).
    public var pids: Int?
    /// CPU bandwidth in cores (cgroup CFS quota).
    public var cpus: Double?
    public var wallTimeMs: Int?
    /// CPU time of the whole jail in ms (cgroup accounting; rootless: RLIMIT_CPU, 1 s steps).
    public var cpuTimeMs: Int?
    /// Bytes kept of each of stdout and stderr; the rest is counted and dropped.
    public var outputBytes: Int
    /// End the run with `output_limit` once a stream passes `outputBytes`.
    public var killOnOutputLimit: Bool
    public var fileSizeBytes: Int?
    public var openFiles: Int
    public var stackBytes: Int?

    public init(memoryBytes: Int? = nil, pids: Int? = nil, cpus: Double? = nil,
                wallTimeMs: Int? = nil, cpuTimeMs: Int? = nil,
                outputBytes: Int = 16 << 20, killOnOutputLimit: Bool = false,
                fileSizeBytes: Int? = nil, openFiles: Int = 1024, stackBytes: Int? = 8 << 20) {
        self.memoryBytes = memoryBytes
        self.pids = pids
        self.cpus = cpus
        self.wallTimeMs = wallTimeMs
        self.cpuTimeMs = cpuTimeMs
        self.outputBytes = outputBytes
        self.killOnOutputLimit = killOnOutputLimit
        self.fileSizeBytes = fileSizeBytes
        self.openFiles = openFiles
        self.stackBytes = stackBytes
    }
}
