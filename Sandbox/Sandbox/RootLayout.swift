import CSandbox
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One step of assembling the jail's root, in the order the child applies them.
struct MountStep: Equatable {
    var kind: Int32
    var target: String
    var source: String? = nil
    var isDirectory = false
    var flags: UInt = 0
    var mode: UInt32 = 0o644
    var data: [UInt8]? = nil
    /// WD_MOUNT_ATTACH: the caller's mount descriptor.
    var fd: Int32 = -1
}

enum MountFlag {
    static let readOnly: UInt = 1
    static let noSuid: UInt = 2
    static let noDev: UInt = 4
    static let noExec: UInt = 8
    static let noAtime: UInt = 1024
    static let noDiratime: UInt = 2048
    static let relatime: UInt = 1 << 21

    /// The flags of the mount holding `path` that a user namespace may not
    /// clear: a read-only remount must repeat them or it fails with EPERM.
    static func locked(at path: String) -> UInt {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else { return 0 }
        let f = UInt(st.f_flag)
        var flags: UInt = 0
        if f & 1 != 0 { flags |= readOnly }
        if f & 2 != 0 { flags |= noSuid }
        if f & 4 != 0 { flags |= noDev }
        if f & 8 != 0 { flags |= noExec }
        if f & 1024 != 0 { flags |= noAtime }
        if f & 2048 != 0 { flags |= noDiratime }
        if f & 4096 != 0 { flags |= relatime }
        return flags
    }
}

/// Turns a configuration into the mount steps of a minimal root: read-only
/// system directories, a generated /etc, a minimal /dev, the jail's /proc,
/// a private /tmp, then the caller's binds. Nothing else of the host shows.
enum RootLayout {
    static func steps(for config: JailConfig) throws(SandboxError) -> [MountStep] {
        var steps = systemSteps(config.systemDirectories)
        steps += etc(config)
        for file in config.files {
            try validate(file, in: config)
            steps.append(MountStep(kind: Int32(WD_MOUNT_FILE.rawValue), target: file.path, mode: file.mode, data: file.contents))
        }
        steps += dev(config)
        steps.append(MountStep(kind: Int32(WD_MOUNT_PROC.rawValue), target: "/proc"))
        steps.append(MountStep(kind: Int32(WD_MOUNT_TMPFS.rawValue), target: "/tmp",
                               flags: MountFlag.noSuid | MountFlag.noDev,
                               data: Array("size=\(config.tmpSizeBytes),mode=1777".utf8)))
        for b in config.binds {
            try validate(b)
            steps.append(bind(b.source, at: b.target, writable: b.writable))
        }
        for m in config.attachedMounts {
            try validate(Bind(source: "/", target: m.target))
            steps.append(MountStep(kind: Int32(WD_MOUNT_ATTACH.rawValue), target: m.target, fd: m.fd))
        }
        return steps
    }

    /// What the host has at the system paths a root mirrors, looked at once per
    /// process and list (about 70 stat calls a jail otherwise): these paths do
    /// not change while Warden runs; a new one shows after a restart.
    private static let hostSteps = Mutex<[[String]: [MountStep]]>([:])

    private static func cached(_ key: [String], _ make: () -> [MountStep]) -> [MountStep] {
        if let hit = hostSteps.withLock({ $0[key] }) { return hit }
        let steps = make()
        hostSteps.withLock { $0[key] = steps }
        return steps
    }

    private static func systemSteps(_ directories: [String]) -> [MountStep] {
        cached(["system"] + directories) {
            directories.compactMap { dir in
                if let link = HostFile.symlinkTarget(dir) {
                    return MountStep(kind: Int32(WD_MOUNT_SYMLINK.rawValue), target: dir, data: Array(link.utf8))
                }
                return HostFile.isDirectory(dir) ? bind(dir, at: dir, writable: false) : nil
            }
        }
    }

    /// The checks `steps` makes of the config's files, alone (for a jail armed without them).
    static func checkFiles(of config: JailConfig) throws(SandboxError) {
        for file in config.files { try validate(file, in: config) }
    }

    /// A file must land on the root's own tmpfs, not in (or under) another mount.
    private static func validate(_ file: JailFile, in config: JailConfig) throws(SandboxError) {
        guard file.path.hasPrefix("/"), file.path != "/", !file.path.split(separator: "/").contains("..") else {
            throw SandboxError.invalidConfig("file path \(file.path) must be an absolute path below / without '..'")
        }
        let mounts = ["/dev", "/proc", "/tmp"] + config.systemDirectories + config.etcEntries + config.binds.map(\.target)
        if let covering = mounts.first(where: { file.path == $0 || file.path.hasPrefix($0 + "/") }) {
            throw SandboxError.invalidConfig("file \(file.path) would lie in the mount at \(covering); choose another path")
        }
    }

    private static func validate(_ b: Bind) throws(SandboxError) {
        guard b.source.hasPrefix("/"), b.target.hasPrefix("/") else {
            throw SandboxError.invalidConfig("bind paths must be absolute: \(b.source) -> \(b.target)")
        }
        guard b.target != "/", !b.target.split(separator: "/").contains("..") else {
            throw SandboxError.invalidConfig("bind target \(b.target) must be a path below / without '..'")
        }
        guard HostFile.exists(b.source) else {
            throw SandboxError.invalidConfig("bind source \(b.source) does not exist")
        }
    }

    static func bind(_ source: String, at target: String, writable: Bool) -> MountStep {
        var flags = MountFlag.locked(at: source) | MountFlag.noSuid | MountFlag.noDev
        if !writable { flags |= MountFlag.readOnly }
        return MountStep(kind: Int32(WD_MOUNT_BIND.rawValue), target: target, source: source,
                         isDirectory: HostFile.isDirectory(source), flags: flags)
    }

    private static func file(_ target: String, _ text: String, mode: UInt32 = 0o644) -> MountStep {
        MountStep(kind: Int32(WD_MOUNT_FILE.rawValue), target: target, mode: mode, data: Array(text.utf8))
    }

    private static func etc(_ config: JailConfig) -> [MountStep] {
        let uid = config.uid, gid = config.gid
        var passwd = "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        var group = "root:x:0:\n"
        if uid != 0 { passwd += "warden:x:\(uid):\(gid):warden:/tmp:/bin/sh\n" }
        if gid != 0 { group += "warden:x:\(gid):\n" }
        passwd += "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        group += "nogroup:x:65534:\n"
        var steps = [
            MountStep(kind: Int32(WD_MOUNT_DIR.rawValue), target: "/etc", mode: 0o755),
            file("/etc/passwd", passwd),
            file("/etc/group", group),
            file("/etc/hostname", config.hostname + "\n"),
            file("/etc/hosts", "127.0.0.1\tlocalhost \(config.hostname)\n::1\tlocalhost ip6-localhost ip6-loopback\n"),
        ]
        steps += cached(["etc"] + config.etcEntries) {
            config.etcEntries.filter(HostFile.exists).map { entry in
                if let link = HostFile.symlinkTarget(entry), link.hasPrefix("/usr/") {
                    return MountStep(kind: Int32(WD_MOUNT_SYMLINK.rawValue), target: entry, data: Array(link.utf8))
                }
                return bind(entry, at: entry, writable: false)
            }
        }
        return steps
    }

    private static func dev(_ config: JailConfig) -> [MountStep] {
        var steps = [MountStep(kind: Int32(WD_MOUNT_TMPFS.rawValue), target: "/dev",
                               flags: MountFlag.noSuid | MountFlag.noExec, data: Array("size=64k,mode=0755".utf8))]
        steps += cached(["dev"]) {
            ["null", "zero", "full", "random", "urandom"].map { node in
                var step = bind("/dev/" + node, at: "/dev/" + node, writable: true)
                step.flags = MountFlag.locked(at: "/dev/" + node) | MountFlag.noSuid | MountFlag.noExec
                return step
            }
        }
        let links = [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                     ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")]
        for (name, target) in links {
            steps.append(MountStep(kind: Int32(WD_MOUNT_SYMLINK.rawValue), target: "/dev/" + name, data: Array(target.utf8)))
        }
        steps.append(MountStep(kind: Int32(WD_MOUNT_TMPFS.rawValue), target: "/dev/shm",
                               flags: MountFlag.noSuid | MountFlag.noDev,
                               data: Array("size=\(config.shmSizeBytes),mode=1777".utf8)))
        if config.devPts {
            steps.append(MountStep(kind: Int32(WD_MOUNT_DEVPTS.rawValue), target: "/dev/pts"))
            steps.append(MountStep(kind: Int32(WD_MOUNT_SYMLINK.rawValue), target: "/dev/ptmx", data: Array("pts/ptmx".utf8)))
        }
        steps.append(MountStep(kind: Int32(WD_MOUNT_REMOUNT.rawValue), target: "/dev",
                               flags: MountFlag.readOnly | MountFlag.noSuid | MountFlag.noExec))
        return steps
    }
}
