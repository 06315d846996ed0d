import CCap
#if canImport(Glibc)
import Glibc
#endif

/// What the host offers a jail, and which guarantees are missing without it.
public struct HostFacts: Sendable {
    public let isRoot: Bool
    public let cgroups: CgroupHost?
    public let cgroupsWritable: Bool
    public let unprivilegedUserNamespaces: Bool
    public let kernel: String

    public static func probe(cgroupRoot: String = "/sys/fs/cgroup") -> HostFacts {
        let cg = CgroupHost.detect(root: cgroupRoot)
        var uts = utsname()
        uname(&uts)
        let release = withUnsafeBytes(of: uts.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let maxUserNs = HostFile.readString("/proc/sys/user/max_user_namespaces").flatMap { Int($0.trimmingCharacters(in: " \n")) } ?? 0
        let clone = HostFile.readString("/proc/sys/kernel/unprivileged_userns_clone").flatMap { Int($0.trimmingCharacters(in: " \n")) } ?? 1
        return HostFacts(isRoot: geteuid() == 0, cgroups: cg, cgroupsWritable: cg?.isWritable ?? false,
                         unprivilegedUserNamespaces: maxUserNs > 0 && clone != 0, kernel: release)
    }

    /// The highest capability number this kernel knows (libcap asks the kernel).
    public static var lastCapability: Int32 {
        let bits = cap_max_bits()
        return bits > 0 ? Int32(bits) - 1 : 40
    }

    /// Plain statements of what a jail started here cannot guarantee.
    public func missingGuarantees(for config: JailConfig) -> [String] {
        var missing: [String] = []
        if !isRoot {
            missing.append("rootless: the payload runs as your own host uid (mapped to \(config.uid)); tenants are not separated by distinct host uid ranges")
            missing.append("rootless: your supplementary groups stay with the payload (setgroups is denied in an unprivileged user namespace)")
            if case .join = config.network {
                missing.append("rootless: joining a pre-made network namespace needs root; use an isolated one")
            }
        }
        if !cgroupsWritable {
            let l = config.limits
            if l.memoryBytes != nil { missing.append("no writable cgroup: the memory limit is not enforced") }
            if l.cpus != nil { missing.append("no writable cgroup: the CPU bandwidth limit is not enforced") }
            if l.pids != nil { missing.append("no writable cgroup: the process limit falls back to RLIMIT_NPROC for the payload's uid") }
            if l.cpuTimeMs != nil { missing.append("no writable cgroup: the CPU-time limit falls back to RLIMIT_CPU (whole seconds, per process)") }
            missing.append("no writable cgroup: CPU and memory figures come from the jail's own rusage (largest single process)")
        }
        return missing
    }
}
