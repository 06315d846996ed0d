import CSandbox
import CSeccomp
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A seccomp filter compiled to classic BPF in the caller, ready for the
/// child to load with one syscall.
public struct SeccompProgram: Sendable, Equatable {
    /// struct sock_filter entries, 8 bytes each.
    public let bytes: [UInt8]
    /// Kill rules were turned into user notifications so that the jail's init
    /// can name the syscall before it kills the jail.
    public let reportsKills: Bool
    public var instructionCount: Int { bytes.count / 8 }
}

/// Compiles OCI profiles with libseccomp for the native architecture.
/// Syscalls of other ABIs (i386, x32) fail the architecture check and kill.
public enum SeccompCompiler {
    // libseccomp's action macros are function-like and do not import.
    static let actAllow: UInt32 = 0x7fff_0000
    static let actLog: UInt32 = 0x7ffc_0000
    static let actNotify: UInt32 = 0x7fc0_0000
    static let actTrap: UInt32 = 0x0003_0000
    static let actKillProcess: UInt32 = 0x8000_0000
    static let actKillThread: UInt32 = 0x0000_0000
    static func actErrno(_ err: UInt32) -> UInt32 { 0x0005_0000 | (err & 0xffff) }

    private static let cache = Mutex<[SeccompProfile: SeccompProgram]>([:])

    /// Compiles a profile. With `reportKills`, kill and trap actions become
    /// user notifications, which the jail's init answers by killing the whole
    /// jail and reporting the syscall by name.
    public static func compile(_ profile: SeccompProfile, reportKills: Bool = true) throws(SandboxError) -> SeccompProgram {
        if reportKills, let hit = cache.withLock({ $0[profile] }) { return hit }
        let program = try build(profile, reportKills: reportKills)
        if reportKills { cache.withLock { $0[profile] = program } }
        return program
    }

    private static func build(_ profile: SeccompProfile, reportKills: Bool) throws(SandboxError) -> SeccompProgram {
        var usesNotify = false
        func action(_ name: String, errnoRet: UInt32?) throws(SandboxError) -> UInt32 {
            switch name {
            case "SCMP_ACT_ALLOW": return actAllow
            case "SCMP_ACT_LOG": return actLog
            case "SCMP_ACT_ERRNO": return actErrno(errnoRet ?? UInt32(EPERM))
            case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP":
                if reportKills { usesNotify = true; return actNotify }
                return name == "SCMP_ACT_TRAP" ? actTrap : actKillProcess
            default:
                throw SandboxError.invalidProfile("unknown action \(name)")
            }
        }

        let defaultAction = try action(profile.defaultAction, errnoRet: profile.defaultErrnoRet)
        guard let ctx = seccomp_init(defaultAction) else {
            throw SandboxError.invalidProfile("libseccomp could not start a filter with default action \(profile.defaultAction)")
        }
        defer { seccomp_release(ctx) }
        // A binary tree of syscall numbers: fewer instructions per syscall,
        // which also makes the kernel's per-filter cache cheaper to build.
        _ = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)
        let native = nativeArchitectureName()

        for rule in profile.syscalls {
            if let arches = rule.includes?.arches, !arches.contains(native) { continue }
            if let arches = rule.excludes?.arches, arches.contains(native) { continue }
            let act = try action(rule.action, errnoRet: rule.errnoRet ?? profile.defaultErrnoRet)
            if act == defaultAction { continue }
            let comparisons = try (rule.args ?? []).map { arg throws(SandboxError) in try comparison(arg) }
            // Docker's meaning: arguments on distinct indexes must all hold;
            // several conditions on one index are alternatives (one rule each).
            let indexes = Set(comparisons.map(\.arg))
            let groups: [[scmp_arg_cmp]] = indexes.count == comparisons.count ? [comparisons] : comparisons.map { [$0] }
            for name in rule.names {
                let nr = seccomp_syscall_resolve_name(name)
                if nr == __NR_SCMP_ERROR { continue } // not a syscall of this architecture or libseccomp
                for group in groups {
                    let rc = group.withUnsafeBufferPointer {
                        seccomp_rule_add_array(ctx, act, nr, UInt32($0.count), $0.baseAddress)
                    }
                    if rc < 0 && rc != -EEXIST {
                        throw SandboxError.invalidProfile("rule for \(name) (\(rule.action)) was refused: \(HostFile.errorText(-rc))")
                    }
                }
            }
        }
        return SeccompProgram(bytes: try export(ctx), reportsKills: usesNotify)
    }

    private static func comparison(_ arg: SeccompProfile.Argument) throws(SandboxError) -> scmp_arg_cmp {
        let op: scmp_compare
        switch arg.op {
        case "SCMP_CMP_NE": op = SCMP_CMP_NE
        case "SCMP_CMP_LT": op = SCMP_CMP_LT
        case "SCMP_CMP_LE": op = SCMP_CMP_LE
        case "SCMP_CMP_EQ": op = SCMP_CMP_EQ
        case "SCMP_CMP_GE": op = SCMP_CMP_GE
        case "SCMP_CMP_GT": op = SCMP_CMP_GT
        case "SCMP_CMP_MASKED_EQ": op = SCMP_CMP_MASKED_EQ
        default: throw SandboxError.invalidProfile("unknown comparison \(arg.op)")
        }
        guard arg.index < 6 else { throw SandboxError.invalidProfile("argument index \(arg.index) is over 5") }
        return scmp_arg_cmp(arg: arg.index, op: op, datum_a: arg.value, datum_b: arg.valueTwo ?? 0)
    }

    /// libseccomp exports only to a file descriptor: use a memfd and read it back.
    private static func export(_ ctx: scmp_filter_ctx) throws(SandboxError) -> [UInt8] {
        let fd = wd_memfd("seccomp-bpf")
        if fd < 0 { throw SandboxError.system("memfd_create", errno: errno) }
        defer { close(fd) }
        let rc = seccomp_export_bpf(ctx, fd)
        if rc < 0 { throw SandboxError.system("seccomp_export_bpf", errno: -rc) }
        lseek(fd, 0, SEEK_SET)
        return try HostFile.readAll(fd: fd, limit: 1 << 20, what: "exported filter")
    }

    static func nativeArchitectureName() -> String {
        #if arch(x86_64)
        return "SCMP_ARCH_X86_64"
        #elseif arch(arm64)
        return "SCMP_ARCH_AARCH64"
        #else
        return "native"
        #endif
    }

    /// The name of a syscall number of this architecture ("ptrace"), or "syscall N".
    public static func syscallName(_ nr: Int32) -> String {
        guard let name = seccomp_syscall_resolve_num_arch(UInt32(SCMP_ARCH_NATIVE), nr) else { return "syscall \(nr)" }
        defer { free(name) }
        return String(cString: name)
    }

    /// The number of a syscall name on this architecture, or nil.
    public static func syscallNumber(_ name: String) -> Int32? {
        let nr = seccomp_syscall_resolve_name(name)
        return nr == __NR_SCMP_ERROR ? nil : nr
    }
}
