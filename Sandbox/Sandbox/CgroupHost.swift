#if canImport(Glibc)
import Glibc
#endif

public enum CgroupVersion: String, Sendable, Codable { case v1, v2 }

/// The host's cgroup hierarchy as Warden uses it: v2 when the root is a
/// cgroup2 mount, else the v1 hierarchies of memory, pids, cpu and cpuacct.
public struct CgroupHost: Sendable, Equatable {
    public let root: String
    public let version: CgroupVersion
    /// v1: controller → its hierarchy's directory. v2: controller → root.
    public let controllerDirectories: [String: String]

    public var controllers: Set<String> { Set(controllerDirectories.keys) }

    static let wanted = ["memory", "pids", "cpu", "cpuacct"]

    /// Reads the hierarchy under `root` (default /sys/fs/cgroup; point it at
    /// a cgroup2 mount such as /sys/fs/cgroup/unified to use v2 there).
    public static func detect(root: String = "/sys/fs/cgroup") -> CgroupHost? {
        if let controllers = HostFile.readString(root + "/cgroup.controllers") {
            var dirs: [String: String] = [:]
            for name in controllers.split(whereSeparator: { $0 == " " || $0 == "\n" }) where wanted.contains(String(name)) {
                dirs[String(name)] = root
            }
            return CgroupHost(root: root, version: .v2, controllerDirectories: dirs)
        }
        guard let mounts = HostFile.readString("/proc/self/mounts") else { return nil }
        var dirs: [String: String] = [:]
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 4, fields[2] == "cgroup", fields[1].hasPrefix(root + "/") else { continue }
            for option in fields[3].split(separator: ",") where wanted.contains(String(option)) {
                dirs[String(option)] = String(fields[1])
            }
        }
        return dirs.isEmpty ? nil : CgroupHost(root: root, version: .v1, controllerDirectories: dirs)
    }

    /// Whether this process may create cgroups here (root, or a delegated subtree).
    public var isWritable: Bool {
        controllerDirectories.values.allSatisfy { access($0, W_OK) == 0 }
    }
}
