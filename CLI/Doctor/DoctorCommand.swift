import ArgumentParser
import Foundation
import Sandbox
import Store

/// `warden doctor`: what this host offers Warden, and what will not work and why.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the kernel, namespaces, cgroups, seccomp, binaries and disk.")

    @Flag(help: "Print JSON.") var json = false
    @Option(name: .customLong("state-dir"), help: "State directory to check for free space (default ./var).")
    var stateDirectory = "./var"
    @Option(help: "The store to check: sqlite, a postgres:// URI or a libpq string (default: WARDEN_STORE_URL, else sqlite).")
    var store: String?

    struct Check: Codable {
        var name: String
        var ok: Bool
        var detail: String
    }

    func run() throws {
        var checks: [Check] = []
        let facts = HostFacts.probe()
        checks.append(Check(name: "kernel", ok: true, detail: facts.kernel))
        checks.append(Check(name: "root", ok: facts.isRoot,
                            detail: facts.isRoot ? "root: per-tenant host id ranges, cgroups, storage quotas"
                                                 : "not root: jails run as your own uid; no per-tenant id ranges"))
        checks.append(Check(name: "user namespaces", ok: facts.unprivilegedUserNamespaces || facts.isRoot,
                            detail: facts.unprivilegedUserNamespaces ? "available" : "disabled (see /proc/sys/user/max_user_namespaces)"))
        if let cg = facts.cgroups {
            checks.append(Check(name: "cgroups", ok: facts.cgroupsWritable,
                                detail: "\(cg.version.rawValue) at \(cg.root), controllers: \(cg.controllers.sorted().joined(separator: ", "))"
                                    + (facts.cgroupsWritable ? "" : "; not writable: no memory/CPU/process limits")))
        } else {
            checks.append(Check(name: "cgroups", ok: false, detail: "no usable hierarchy: no memory/CPU/process limits"))
        }
        checks.append(storageCheck(isRoot: facts.isRoot))
        let dynmods = CgroupTuning.favorsDynamicModifications
        checks.append(Check(name: "cgroup favordynmods", ok: dynmods || !facts.isRoot,
                            detail: dynmods ? "on: moving a jail into its cgroup does not wait for an RCU grace period"
                                            : "off: each jail start may wait ~10 ms in the kernel; `warden serve` as root turns it on"))
        let seccomp = (try? SeccompCompiler.compile(SeccompProfile.load("default")))
        checks.append(Check(name: "seccomp", ok: seccomp != nil,
                            detail: seccomp.map { "default profile compiles to \($0.instructionCount) BPF instructions" }
                                ?? "the default profile did not compile (is policies/ present? set WARDEN_POLICIES)"))
        let trial = try? Jail(cgroupRoot: nil, cgroupParent: "warden-doctor")
        var config = JailConfig(command: "/bin/true")
        config.seccomp = seccomp
        let run = trial?.run(config)
        checks.append(Check(name: "jail", ok: run?.result.status == .ok,
                            detail: run.map { "a jailed /bin/true: \($0.result.status.rawValue)\($0.result.message.map { " (\($0))" } ?? "")" } ?? "cannot create a jail"))
        for (name, path) in [("python3", "/usr/bin/python3"), ("node", "/usr/bin/node"), ("bash", "/bin/bash"),
                             ("chromium", "/usr/lib/chromium/chromium-headless-shell")] {
            let ok = FileManager.default.isExecutableFile(atPath: path)
            checks.append(Check(name: name, ok: ok, detail: ok ? path : "\(path) missing: that tool will not work (scripts/setup.sh installs it)"))
        }
        let worker = (ProcessInfo.processInfo.arguments.first.map { ($0 as NSString).deletingLastPathComponent } ?? ".") + "/warden-worker"
        checks.append(Check(name: "warden-worker", ok: FileManager.default.isExecutableFile(atPath: worker), detail: worker))
        var fs = statvfs()
        let dir = FileManager.default.fileExists(atPath: stateDirectory) ? stateDirectory : "."
        if statvfs(dir, &fs) == 0 {
            let free = Double(fs.f_bavail) * Double(fs.f_frsize) / 1_073_741_824
            checks.append(Check(name: "disk", ok: free > 1, detail: String(format: "%.1f GiB free at %@", free, dir)))
        }
        for line in facts.missingGuarantees(for: JailConfig(command: "/bin/true")) {
            checks.append(Check(name: "guarantee", ok: false, detail: line))
        }
        checks.append(storeCheck())
        if json {
            let data = try JSONEncoder().encode(checks)
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else {
            for c in checks { print("\(c.ok ? "ok  " : "FAIL") \(c.name): \(c.detail)") }
        }
        if checks.contains(where: { !$0.ok && ["user namespaces", "seccomp", "jail", "store"].contains($0.name) }) {
            throw ExitCode(1)
        }
    }

    /// storage.bytes is a hard limit only as root, with loop devices, the
    /// mount API and the e2fsprogs tools that make the workspace images.
    func storageCheck(isRoot: Bool) -> Check {
        guard isRoot else {
            return Check(name: "storage quota", ok: false,
                         detail: "not root: workspaces are directories; files API writes past storage.bytes are refused, but exec can write past it")
        }
        let (loops, mountAPI) = DetachedMount.availability()
        let tools = ["mkfs.ext4", "resize2fs", "e2fsck", "dumpe2fs", "debugfs"].filter { name in
            !["/usr/sbin", "/sbin"].contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
        }
        var missing: [String] = []
        if !loops { missing.append("no loop devices (/dev/loop-control; modprobe loop)") }
        if !mountAPI { missing.append("no mount API for ext4 (fsopen; kernel 5.2 or later with ext4)") }
        if !tools.isEmpty { missing.append("missing \(tools.joined(separator: ", ")) (apt-get install e2fsprogs)") }
        guard missing.isEmpty else {
            return Check(name: "storage quota", ok: false,
                         detail: missing.joined(separator: "; ") + ": workers of tenants with storage.bytes cannot start")
        }
        return Check(name: "storage quota", ok: true,
                     detail: "loop devices and the mount API: each workspace is an ext4 image of its storage.bytes, mounted only in its jail")
    }

    /// Which back end `warden serve` would use with these settings, and whether it answers.
    func storeCheck() -> Check {
        let value = store ?? ProcessInfo.processInfo.environment["WARDEN_STORE_URL"] ?? "sqlite"
        do {
            switch try StoreLocation(parsing: value) {
            case .sqlite:
                return Check(name: "store", ok: true, detail: "sqlite: \(stateDirectory)/warden.db")
            case .postgres(let connection):
                return Check(name: "store", ok: true, detail: "postgresql: " + (try PostgresStore.inspect(connection: connection)))
            }
        } catch {
            return Check(name: "store", ok: false, detail: "\(error)")
        }
    }
}
