import Foundation
import Supervisor
import Testing

/// Exec over real HTTP with real workers in real jails: what one tenant's
/// code can see of another's, and many tenants at once.
@Suite("Exec: isolation between tenants")
struct ExecIsolationTests {
    @Test func aTenantCannotSeeAnotherTenantsProcesses() async throws {
        try await withLiveDaemon { daemon in
            let (_, aliceKey) = try await daemon.tenantWithKey("alice")
            let (_, bobKey) = try await daemon.tenantWithKey("bob")
            let marker = "marker\(UInt32.random(in: 100_000...999_999))"

            // Alice's code runs for a while under a name we can look for.
            let alice = Task {
                try await daemon.exec(aliceKey, ["language": "bash", "code": "exec -a \(marker) sleep 30", "timeout_ms": 40_000])
            }
            defer { alice.cancel() }
            let running = await Live.eventually(within: 60) { !Live.processes(containing: marker).isEmpty }
            #expect(running, "alice's process never showed up on the host")

            let probe = """
                import os
                pids = [p for p in os.listdir('/proc') if p.isdigit()]
                cmdlines = []
                for p in pids:
                    try:
                        cmdlines.append(open('/proc/%s/cmdline' % p, 'rb').read().replace(b'\\0', b' ').decode())
                    except Exception:
                        pass
                print('pids', len(pids))
                print('\\n'.join(cmdlines))
                """
            let result = try await daemon.run(bobKey, "python", probe)
            let out = result["stdout"] as? String ?? ""
            #expect(!out.contains(marker), "bob saw alice's process: \(out)")
            // The call's own pid 1 is a copy of the worker (the jail's reaper); nothing of the supervisor shows.
            #expect(!out.contains("serve"), "bob saw the supervisor: \(out)")
            // A fresh pid namespace: only the call's own few processes.
            let count = out.split(separator: "\n").first.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 999
            #expect(count <= 4, "bob's /proc lists \(count) processes: \(out)")

            // `ps` where the image has it, and `ls /proc`.
            let ps = try await daemon.run(bobKey, "bash", "ls /proc; command -v ps >/dev/null && ps -eo pid,args || echo no-ps")
            let psOut = ps["stdout"] as? String ?? ""
            #expect(!psOut.contains(marker), "bob's ps saw alice's process: \(psOut)")
            #expect(!psOut.contains("sleep"), "\(psOut)")

            // Alice herself does not see her earlier call from a new one either (fresh namespace per call).
            let again = try await daemon.run(aliceKey, "bash", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '")
            #expect(!(again["stdout"] as? String ?? "").contains(marker))
            alice.cancel()
        }
    }

    /// The next call's jail is armed while a call runs: a call that plants
    /// files, leaves processes behind and looks for other jails finds nothing,
    /// and the calls after it see nothing of it.
    @Test func aCallLeavesNothingForTheCallsAfterIt() async throws {
        try await withLiveDaemon { daemon in
            let (_, key) = try await daemon.tenantWithKey("planter")
            let plant = try await daemon.run(key, "bash", """
                echo planted > /tmp/planted
                echo planted > /code/planted 2>/dev/null && echo wrote-code
                echo planted > /planted 2>/dev/null && echo wrote-root
                (setsid sleep 300 </dev/null >/dev/null 2>&1 &)
                (trap '' TERM HUP; exec -a lingering sleep 300) </dev/null >/dev/null 2>&1 &
                # Other jails' roots and processes, as far as this one can see.
                ls /proc | grep -c '^[0-9]'
                ls /proc/*/root/code/ 2>/dev/null | grep -v -e '^main' -e '^$' -e ':$' || true
                """)
            let planted = plant["stdout"] as? String ?? ""
            #expect(!planted.contains("wrote-code") && !planted.contains("wrote-root"), "\(planted)")
            let count = Int(planted.split(separator: "\n").first ?? "") ?? 999
            #expect(count <= 8, "the call saw \(count) processes: \(planted)")
            #expect(planted.split(separator: "\n").count == 1, "the call saw other jails' files: \(planted)")

            for _ in 0..<3 {
                let next = try await daemon.run(key, "bash", """
                    ls -A /tmp /code; ls /planted 2>/dev/null
                    cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '
                    """)
                let seen = next["stdout"] as? String ?? ""
                #expect(!seen.contains("planted") && !seen.contains("lingering") && !seen.contains("sleep"), "\(seen)")
            }
            #expect(Live.processes(containing: "lingering").isEmpty, "a call's process outlived it")
        }
    }

    @Test func toolProcessesRunAsUnprivilegedIdsDistinctPerTenant() async throws {
        try await withLiveDaemon { daemon in
            let (_, aliceKey) = try await daemon.tenantWithKey("alice")
            let (_, bobKey) = try await daemon.tenantWithKey("bob")
            func hostUID(_ token: String) async throws -> (uid: Int?, inside: String) {
                let marker = "idprobe\(UInt32.random(in: 100_000...999_999))"
                let call = Task { try await daemon.exec(token, ["language": "bash", "code": "exec -a \(marker) sleep 20", "timeout_ms": 30_000]) }
                defer { call.cancel() }
                _ = await Live.eventually(within: 60) { !Live.processes(containing: marker).isEmpty }
                let pid = Live.processes(containing: marker).first
                let status = pid.flatMap { try? String(contentsOfFile: "/proc/\($0)/status", encoding: .utf8) } ?? ""
                let uidLine = status.split(separator: "\n").first { $0.hasPrefix("Uid:") } ?? ""
                let uid = uidLine.split(separator: "\t").dropFirst().first.flatMap { Int($0) }
                let inside = try await daemon.run(token, "bash", "id -u")
                return (uid, inside["stdout"] as? String ?? "")
            }
            let a = try await hostUID(aliceKey)
            let b = try await hostUID(bobKey)
            #expect(a.inside != "0\n" && b.inside != "0\n", "tool code runs as root inside: \(a.inside) \(b.inside)")
            if Live.isRoot {
                let (aUID, bUID) = (try #require(a.uid), try #require(b.uid))
                #expect(aUID != 0 && bUID != 0)
                #expect(aUID != bUID, "two tenants' code runs as the same host uid \(aUID)")
            }
        }
    }

    @Test func fiftyTenantsWithConcurrentCallsEachSeeOnlyTheirOwnOutput() async throws {
        try await withLiveDaemon({ $0.workerIdleSeconds = 600 }) { daemon in
            var tenants: [(name: String, token: String)] = []
            for index in 0..<50 {
                let (tenant, token) = try await daemon.tenantWithKey("crowd-\(index)")
                tenants.append((tenant.name, token))
            }
            let results = try await withThrowingTaskGroup(of: (String, LocalHTTPClient.Response).self) { group in
                for (name, token) in tenants {
                    group.addTask {
                        let response = try await daemon.exec(token, [
                            "language": "bash",
                            "code": "cat mine.txt; echo; ls /workspace | tr '\\n' ' '; echo \"$1\"",
                            "args": [name],
                            "files": [["path": "mine.txt", "content": "I am \(name)"]],
                            "timeout_ms": 60_000,
                        ], timeout: .seconds(240))
                        return (name, response)
                    }
                }
                var collected: [(String, LocalHTTPClient.Response)] = []
                for try await result in group { collected.append(result) }
                return collected
            }
            #expect(results.count == 50)
            for (name, response) in results {
                #expect(response.status == 200, "\(name): \(response.status) \(String(decoding: response.body, as: UTF8.self))")
                let stdout = response.json?["stdout"] as? String ?? ""
                #expect(stdout.hasPrefix("I am \(name)\nmine.txt "), "\(name) got \(stdout) \(response.json?["stderr"] ?? "")")
                for (other, _) in tenants where other != name {
                    #expect(!stdout.contains(other + "\n") && !stdout.contains("I am \(other)\n"), "\(name) saw \(other)")
                }
            }
            let workers = try await daemon.admin.workers()
            #expect(workers.filter { $0.state == "running" }.count == 50, "\(workers.map(\.state))")
            #expect(Set(workers.compactMap(\.pid)).count == workers.compactMap(\.pid).count, "two tenants share a worker pid")
        }
    }
}
