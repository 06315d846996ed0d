import Foundation
import Sandbox
#if canImport(Glibc)
import Glibc
#endif

/// A tenant's cgroup, delegated to its worker: `warden/tenants/<id>` in every
/// hierarchy, owned by the tenant's root id, and bound into the tenant jail
/// at /sys/fs/cgroup/<controller>, so the worker can give each tool call a
/// child cgroup of its own under the tenant's ceiling.
/// Names carry the daemon's scope (from its state directory), so that a
/// daemon sweeps only its own leftovers, never another daemon's live tenants.
struct TenantCgroup {
    static let parent = "warden/tenants"

    let host: CgroupHost
    let scope: String
    let tenantID: String

    var name: String { "\(Self.parent)/\(scope)-\(tenantID)" }

    /// A short, stable tag of a state directory: the same after a restart.
    static func scope(stateDirectory: String) -> String {
        let path = URL(fileURLWithPath: stateDirectory).standardizedFileURL.resolvingSymlinksInPath().path
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return "s" + String(String(hash, radix: 16).suffix(10))
    }

    /// Directory of this tenant in each distinct hierarchy.
    var directories: [String] {
        let bases = host.version == .v2 ? [host.root] : Array(Set(host.controllerDirectories.values)).sorted()
        return bases.map { "\($0)/\(name)" }
    }

    /// Creates the directories and gives them (and their control files) to the tenant's root.
    func prepare(owner: UInt32) throws {
        for dir in directories {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            guard chown(dir, owner, owner) == 0 else { throw POSIXFailure("cannot give cgroup \(dir) to uid \(owner)") }
            for file in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
                _ = chown("\(dir)/\(file)", owner, owner)
            }
        }
    }

    /// Binds of the delegated directories into the tenant jail.
    var binds: [Bind] {
        directories.map { dir in
            let base = (dir as NSString).deletingLastPathComponent
            let hierarchy = ((base as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
            let controller = (hierarchy as NSString).lastPathComponent
            return Bind(source: dir, target: "/sys/fs/cgroup/\(host.version == .v2 ? "unified" : controller)", writable: true)
        }
    }

    /// Removes the tenant's cgroups, deepest first, killing anything left inside.
    func remove() {
        for dir in directories { Self.removeTree(dir) }
    }

    /// Removes every tenant cgroup of this scope (at start, after a supervisor that was killed).
    static func sweep(host: CgroupHost, scope: String) {
        let bases = host.version == .v2 ? [host.root] : Array(Set(host.controllerDirectories.values))
        for base in bases {
            let dir = "\(base)/\(parent)"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasPrefix(scope + "-") {
                removeTree("\(dir)/\(name)")
            }
        }
    }

    private static func removeTree(_ dir: String) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else { return }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            let child = "\(dir)/\(name)"
            var childIsDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: child, isDirectory: &childIsDirectory), childIsDirectory.boolValue {
                removeTree(child)
            }
        }
        if let procs = try? String(contentsOfFile: dir + "/cgroup.procs", encoding: .utf8) {
            for line in procs.split(separator: "\n") { if let pid = Int32(line) { kill(pid, SIGKILL) } }
        }
        for _ in 0..<50 where rmdir(dir) < 0 && errno == EBUSY { usleep(2000) }
    }
}
