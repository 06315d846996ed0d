import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the host offers the jail, read from /proc and /sys. Small on purpose:
/// `warden doctor` is the place for the long version.
public struct HostChecks: Codable, Sendable, Equatable {
    public var kernel: String
    public var rootMode: Bool
    public var userNamespaces: Bool
    public var unprivilegedUserNamespaces: Bool
    /// "v2", "hybrid" (v1 controllers plus an empty v2 mount), "v1" or "none".
    public var cgroupVersion: String
    public var cgroupControllers: [String]
    public var seccomp: Bool

    enum CodingKeys: String, CodingKey {
        case kernel, seccomp
        case rootMode = "root_mode"
        case userNamespaces = "user_namespaces"
        case unprivilegedUserNamespaces = "unprivileged_user_namespaces"
        case cgroupVersion = "cgroup_version"
        case cgroupControllers = "cgroup_controllers"
    }

    public static func read(procRoot: String = "/proc", sysRoot: String = "/sys") -> HostChecks {
        let maxUserNamespaces = readInteger("\(procRoot)/sys/user/max_user_namespaces") ?? 0
        // Debian's switch; absent on kernels that do not carry the patch.
        let unprivilegedClone = readInteger("\(procRoot)/sys/kernel/unprivileged_userns_clone") ?? 1
        let (version, controllers) = cgroupLayout(procRoot: procRoot, cgroupRoot: "\(sysRoot)/fs/cgroup")
        return HostChecks(
            kernel: readText("\(procRoot)/sys/kernel/osrelease") ?? "unknown",
            rootMode: geteuid() == 0,
            userNamespaces: maxUserNamespaces > 0,
            unprivilegedUserNamespaces: maxUserNamespaces > 0 && unprivilegedClone == 1,
            cgroupVersion: version,
            cgroupControllers: controllers,
            seccomp: FileManager.default.fileExists(atPath: "\(procRoot)/sys/kernel/seccomp/actions_avail"))
    }

    static func cgroupLayout(procRoot: String, cgroupRoot: String) -> (String, [String]) {
        let fileManager = FileManager.default
        if let controllers = readText("\(cgroupRoot)/cgroup.controllers") {
            return ("v2", controllers.split(separator: " ").map(String.init))
        }
        // /proc/cgroups lists v1 controllers: name, hierarchy, cgroups, enabled.
        let v1Controllers = (readText("\(procRoot)/cgroups") ?? "")
            .split(separator: "\n")
            .filter { !$0.hasPrefix("#") }
            .compactMap { line -> String? in
                let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
                guard fields.count >= 4, fields[1] != "0", fields[3] == "1" else { return nil }
                return String(fields[0])
            }
        if fileManager.fileExists(atPath: "\(cgroupRoot)/unified") && !v1Controllers.isEmpty {
            return ("hybrid", v1Controllers)
        }
        if !v1Controllers.isEmpty { return ("v1", v1Controllers) }
        return ("none", [])
    }

    static func readText(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path),
              let text = String(data: data, encoding: .utf8) else { return nil }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func readInteger(_ path: String) -> Int? {
        readText(path).flatMap { Int($0) }
    }
}
