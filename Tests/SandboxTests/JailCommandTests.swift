import Foundation
import Sandbox
import Testing

/// `warden jail run` as an operator uses it, including kill -9 of the
/// runner and the rootless path (an unprivileged user via setpriv).
@Suite struct JailCommandTests {
    static func run(_ args: [String], as user: UInt32? = nil) throws -> (Int32, String, String) {
        var argv = [Fixtures.warden] + args
        var policies = Fixtures.policies
        if let user {
            // The checkout may sit where an unprivileged user cannot reach it.
            let copy = try rootlessCopy()
            argv = ["/usr/bin/setpriv", "--reuid=\(user)", "--regid=\(user)", "--clear-groups", "--inh-caps=-all",
                    copy + "/warden"] + args
            policies = copy + "/policies"
        }
        return try Fixtures.host(argv, environment: ["WARDEN_POLICIES": policies, "PATH": "/usr/bin:/bin"])
    }

    /// The warden binary and the policies in a world-readable temporary directory.
    static func rootlessCopy() throws -> String {
        let dir = "/tmp/warden-rootless-\(getpid())"
        let fm = FileManager.default
        if fm.fileExists(atPath: dir + "/warden") { return dir }
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let tmp = dir + "/warden.\(UUID().uuidString)"
        try fm.copyItem(atPath: Fixtures.warden, toPath: tmp)
        try? fm.copyItem(atPath: Fixtures.policies, toPath: dir + "/policies")
        _ = rename(tmp, dir + "/warden")
        return dir
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    @Test func jsonReportAndMirroredExitCode() throws {
        let (rc, out, _) = try Self.run(["jail", "run", "--json", "--quiet", "--", "/bin/sh", "-c", "echo hi; exit 3"])
        #expect(rc == 3)
        let doc = Self.json(out)
        #expect(doc["status"] as? String == "exited_nonzero")
        #expect(doc["exit_code"] as? Int == 3)
        #expect(doc["stdout"] as? String == "hi\n")
    }

    /// A runner holding more descriptors than the payload's open-files limit
    /// still jails under the exec profile, and the payload inherits none of them.
    @Test func aRunnerWithThousandsOfOpenFilesStillJails() throws {
        let script = "ulimit -n 4096; for i in $(seq 10 1500); do eval \"exec $i</dev/null\"; done; exec \"$0\" \"$@\""
        let (rc, out, err) = try Fixtures.host(["/bin/bash", "-c", script, Fixtures.warden, "jail", "run", "--quiet",
                                                "--seccomp", "exec", "--", "/bin/sh", "-c", "ls /proc/self/fd"],
                                               environment: ["WARDEN_POLICIES": Fixtures.policies, "PATH": "/usr/bin:/bin"])
        #expect(rc == 0, "\(err)")
        let fds = out.split(separator: "\n").compactMap { Int($0) }
        #expect(!fds.isEmpty && fds.allSatisfy { $0 <= 3 }, "the payload holds \(fds)")
    }

    @Test func timeoutMirrors124() throws {
        let (rc, _, err) = try Self.run(["jail", "run", "--quiet", "--time", "200ms", "--", "/bin/sleep", "10"])
        #expect(rc == 124)
        #expect(err.contains("timeout_wall"))
    }

    @Test func badOptionsAreExplained() throws {
        let (rc, _, err) = try Self.run(["jail", "run", "--memory", "lots", "--", "/bin/true"])
        #expect(rc != 0)
        #expect(err.contains("--memory takes a size"))
        let (rc2, _, err2) = try Self.run(["jail", "run", "--seccomp", "nope", "--", "/bin/true"])
        #expect(rc2 != 0)
        #expect(err2.contains("no seccomp profile named nope"))
    }

    @Test func killingTheRunnerLeavesNothingBehind() throws {
        // The payload is marked by a unique sleep length; the runner's own
        // command line differs from it (it starts with the warden binary).
        let marker = "sleep 3002.\(Int.random(in: 100_000...999_999))"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Fixtures.warden)
        p.arguments = ["jail", "run", "--quiet", "--", "/bin/sh", "-c", marker]
        p.environment = ["WARDEN_POLICIES": Fixtures.policies]
        try p.run()
        var seen = false
        for _ in 0..<300 where !seen {
            usleep(50_000)
            seen = !(try Fixtures.hostProcesses(withArgs: marker)).isEmpty
        }
        #expect(seen, "the payload never started")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        var gone = false
        for _ in 0..<100 where !gone {
            usleep(20_000)
            gone = try Fixtures.hostProcesses(withArgs: marker).isEmpty
        }
        #expect(gone, "the jail outlived its runner")
        // The runner's cgroup is swept by the next start.
        guard Fixtures.isRoot else { return }
        _ = try Self.run(["jail", "run", "--quiet", "--", "/bin/true"])
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup/memory/warden-cli")) ?? []
        #expect(!leftovers.contains { $0.contains("-\(p.processIdentifier)-") }, "\(leftovers)")
    }

    @Test func rootlessRunsAndSaysWhatItLoses() throws {
        guard Fixtures.isRoot else { return }
        // nobody must be able to reach the binary and the policies.
        let (rc, out, err) = try Self.run(["jail", "run", "--json", "--", "/bin/sh", "-c",
                                           "id -u; cat /etc/shadow 2>/dev/null || echo no-shadow; echo x > /usr/x 2>/dev/null || echo ro"],
                                          as: 65534)
        #expect(rc == 0, "\(err)")
        let doc = Self.json(out)
        #expect(doc["status"] as? String == "ok", "\(out) \(err)")
        #expect(doc["stdout"] as? String == "1000\nno-shadow\nro\n")
        #expect(err.contains("rootless"))
        #expect(err.contains("memory limit is not enforced"))
    }

    @Test func rootlessForkBombHitsTheProcessLimit() throws {
        guard Fixtures.isRoot else { return }
        let (_, out, _) = try Self.run(["jail", "run", "--json", "--quiet", "--pids", "20", "--time", "10s", "--",
                                        "/usr/bin/python3", "-c",
                                        "import os\nn=0\ntry:\n  while True:\n    if os.fork()==0:\n      import time; time.sleep(5); os._exit(0)\n    n+=1\nexcept OSError as e: print('limited', e.errno)"],
                                       as: 65534)
        let doc = Self.json(out)
        #expect((doc["stdout"] as? String)?.hasPrefix("limited 11") == true, "\(out)")
    }
}
