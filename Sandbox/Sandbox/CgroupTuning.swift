#if canImport(Glibc)
import Glibc
#endif

/// Host tuning for many short-lived cgroup members. Without the kernel's
/// `favordynmods` option every move of a process into a cgroup waits for an
/// RCU grace period (measured here: ~11 ms per jail when jails are spaced
/// out). The option is a property of the one global lock, so setting it on
/// any cgroup2 mount (the unified one of a hybrid host too) is enough.
public enum CgroupTuning {
    /// The cgroup2 mount point, if the host has one.
    static func cgroup2Mount() -> (path: String, options: String)? {
        guard let mounts = HostFile.readString("/proc/self/mounts") else { return nil }
        for line in mounts.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count >= 4, f[2] == "cgroup2" { return (String(f[1]), String(f[3])) }
        }
        return nil
    }

    /// Whether the option is on.
    public static var favorsDynamicModifications: Bool {
        cgroup2Mount()?.options.split(separator: ",").contains("favordynmods") ?? false
    }

    /// Turns the option on (root only). Returns whether it is on afterwards.
    @discardableResult
    public static func favorDynamicModifications() -> Bool {
        guard let m = cgroup2Mount() else { return false }
        if m.options.split(separator: ",").contains("favordynmods") { return true }
        guard geteuid() == 0 else { return false }
        _ = mount("none", m.path, nil, UInt(MS_REMOUNT), "favordynmods")
        return favorsDynamicModifications
    }
}
