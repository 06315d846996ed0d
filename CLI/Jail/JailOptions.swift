import ArgumentParser
import Sandbox

/// The jail's options, shared by `jail run` and `jail bench`.
struct JailOptions: ParsableArguments {
    @Option(name: .customLong("bind"), help: ArgumentHelp("Bind a host path read-write: SRC[:DST].", valueName: "SRC[:DST]"))
    var binds: [String] = []
    @Option(name: .customLong("ro-bind"), help: ArgumentHelp("Bind a host path read-only: SRC[:DST].", valueName: "SRC[:DST]"))
    var roBinds: [String] = []
    @Option(help: "Memory of the whole jail (e.g. 256M, 1G).")
    var memory: String = "1G"
    @Option(help: "Processes and threads of the whole jail.")
    var pids: Int = 1024
    @Option(help: "CPU bandwidth in cores (e.g. 0.5).")
    var cpus: Double?
    @Option(help: "Wall-time limit (e.g. 500ms, 10s, 2m; a bare number is ms).")
    var time: String?
    @Option(name: .customLong("cpu-time"), help: "CPU-time limit of the whole jail (e.g. 2s).")
    var cpuTime: String?
    @Option(name: .customLong("output-limit"), help: "Bytes kept of each of stdout and stderr (e.g. 1M).")
    var outputLimit: String = "64M"
    @Option(name: .customLong("kill-on-output-limit"), help: "End the run when output passes the limit.")
    var killOnOutputLimit = false
    @Option(name: .customLong("file-size"), help: "Largest file the payload may write (RLIMIT_FSIZE).")
    var fileSize: String?
    @Option(name: .customLong("tmp-size"), help: "Size of the private /tmp.")
    var tmpSize: String = "64M"
    @Option(help: "Seccomp profile: a name in policies/seccomp (default, exec, browser), a JSON file, or none.")
    var seccomp: String = "default"
    @Option(help: "Network: isolated (loopback only), inherit, or a network namespace path to join.")
    var net: String = "isolated"
    @Option(help: "The payload's uid inside the jail.")
    var uid: UInt32 = 1000
    @Option(help: "The payload's gid inside the jail.")
    var gid: UInt32 = 1000
    @Option(name: .customLong("uid-base"), help: "Root: first host id of the jail's id range.")
    var uidBase: UInt32?
    @Option(name: .customLong("uid-count"), help: "Root: size of the jail's id range.")
    var uidCount: UInt32 = 65536
    @Option(name: .customLong("env"), help: ArgumentHelp("Set an environment variable.", valueName: "NAME=VALUE"))
    var env: [String] = []
    @Option(help: "Working directory inside the jail.")
    var cwd: String = "/tmp"
    @Option(help: "Host name inside the jail.")
    var hostname: String = "warden"
    @Flag(help: "Give the jail a private /dev/pts.")
    var pty = false
    @Option(name: .customLong("cgroup-root"), help: "The cgroup hierarchy (a cgroup2 mount selects v2).")
    var cgroupRoot: String = "/sys/fs/cgroup"
    @Flag(name: .customLong("no-cgroup"), help: "Run without cgroups (limits fall back to rlimits).")
    var noCgroup = false

    func config(command: [String]) throws -> JailConfig {
        guard let program = command.first else { throw ValidationError("give the program to run after --") }
        var c = JailConfig(command: program, arguments: Array(command.dropFirst()))
        c.binds = try binds.map { try bind($0, writable: true) } + roBinds.map { try bind($0, writable: false) }
        c.limits = Limits(memoryBytes: try Size.bytes(memory, "--memory"), pids: pids, cpus: cpus,
                          wallTimeMs: try time.map { try Size.milliseconds($0, "--time") },
                          cpuTimeMs: try cpuTime.map { try Size.milliseconds($0, "--cpu-time") },
                          outputBytes: try Size.bytes(outputLimit, "--output-limit"),
                          killOnOutputLimit: killOnOutputLimit,
                          fileSizeBytes: try fileSize.map { try Size.bytes($0, "--file-size") })
        if pids < 1 { throw ValidationError("--pids must be at least 1") }
        if let cpus, !(cpus > 0) { throw ValidationError("--cpus must be above 0") }
        c.tmpSizeBytes = try Size.bytes(tmpSize, "--tmp-size")
        if seccomp != "none" {
            c.seccomp = try SeccompCompiler.compile(SeccompProfile.load(seccomp))
        }
        switch net {
        case "isolated": c.network = .isolated
        case "inherit": c.network = .inherit
        default: c.network = .join(path: net)
        }
        c.uid = uid
        c.gid = gid
        if let uidBase { c.identity = .range(base: uidBase, count: uidCount) }
        for pair in env {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw ValidationError("--env takes NAME=VALUE, got \(pair)")
            }
            c.environment[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        c.workingDirectory = cwd
        c.hostname = hostname
        c.devPts = pty
        return c
    }

    func jail() throws -> Jail {
        try Jail(cgroupRoot: noCgroup ? nil : cgroupRoot, cgroupParent: "warden-cli")
    }

    private func bind(_ spec: String, writable: Bool) throws -> Bind {
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        guard let source = parts.first, !source.isEmpty else { throw ValidationError("empty bind \(spec)") }
        return Bind(source: source, target: parts.count > 1 ? parts[1] : source, writable: writable)
    }
}

/// Parses sizes ("64M") and durations ("500ms") given on the command line.
enum Size {
    static func bytes(_ text: String, _ option: String) throws -> Int {
        let units: [(String, Int)] = [("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)]
        var body = text.uppercased()
        if body.hasSuffix("IB") { body.removeLast(2) } else if body.hasSuffix("B") { body.removeLast() }
        for (suffix, factor) in units where body.hasSuffix(suffix) {
            if let n = Double(body.dropLast()), n >= 0, n * Double(factor) < 9e18 { return Int(n * Double(factor)) }
        }
        if let n = Int(body), n >= 0 { return n }
        throw ValidationError("\(option) takes a size such as 512K, 64M or 2G, got \(text)")
    }

    static func milliseconds(_ text: String, _ option: String) throws -> Int {
        let units: [(String, Double)] = [("ms", 1), ("s", 1000), ("m", 60_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let n = Double(text.dropLast(suffix.count)), n > 0 { return max(1, Int(n * factor)) }
        }
        if let n = Int(text), n > 0 { return n }
        throw ValidationError("\(option) takes a positive duration such as 500ms, 10s or 2m, got \(text)")
    }
}
