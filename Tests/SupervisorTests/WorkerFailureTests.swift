import Foundation
import Store
import Supervisor
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Workers and the supervisor failing or being stopped, over real HTTP with
/// real jails: suspend/delete, kill -9 of a worker, kill -9 of `warden serve`.
@Suite("Workers: stop, crash and recovery")
struct WorkerFailureTests {
    @Test func suspendAndDeleteTakeEffectAtOnceAndStopTheWorker() async throws {
        try await withLiveDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("fickle")
            let first = try await daemon.run(token, "bash", "echo up")
            #expect(first["stdout"] as? String == "up\n")
            let pid = try #require(try await daemon.workerPID(tenant.id), "no running worker after a call")
            #expect(Live.isAlive(pid))

            // Two long calls are in flight when the tenant is suspended, one whole, one streamed.
            let long = Task { try await daemon.exec(token, ["language": "bash", "code": "sleep 120", "timeout_ms": 60_000],
                                                    timeout: .seconds(100)) }
            defer { long.cancel() }
            let streamed = Task { try await daemon.exec(token, ["language": "bash", "code": "echo started; sleep 120",
                                                                "timeout_ms": 60_000], stream: true, timeout: .seconds(100)) }
            defer { streamed.cancel() }
            _ = await Live.eventually(within: 30) {
                (try? await daemon.admin.workers().first { $0.tenantID == tenant.id }?.callsInFlight ?? 0) ?? 0 >= 2
            }
            _ = try await daemon.admin.suspendTenant(tenant.id)

            let refused = try await daemon.exec(token, ["language": "bash", "code": "echo no"])
            #expect(refused.status == 403)
            #expect(refused.errorCode == "tenant_suspended")
            #expect(try await daemon.files("GET", "/v1/files", token: token).status == 403)

            // The calls that were running end at once (not after their 60 s timeout),
            // with the error a new call of the suspended tenant gets.
            let interrupted = try await long.value
            let detail = String(decoding: interrupted.body, as: UTF8.self)
            #expect(interrupted.status == 403, "\(detail)")
            #expect(interrupted.errorCode == "tenant_suspended", "\(detail)")
            #expect(interrupted.errorMessage?.contains("suspended") == true, "\(detail)")
            let events = serverSentEvents(try await streamed.value.body)
            #expect(events.last?.event == "error", "\(events.map(\.event))")
            #expect(events.last?.data.contains("tenant_suspended") == true, "\(events.last?.data ?? "")")
            #expect(await Live.eventually(within: 20) { !Live.isAlive(pid) }, "the worker \(pid) still runs after suspend")
            #expect(await Live.eventually(within: 20) { (try? await daemon.workerPID(tenant.id)) == nil })

            // Resume, work again, then delete.
            _ = try await daemon.admin.resumeTenant(tenant.id)
            let resumed = try await daemon.run(token, "bash", "echo back > /workspace/f; cat /workspace/f")
            #expect(resumed["stdout"] as? String == "back\n")
            let second = try #require(try await daemon.workerPID(tenant.id))

            _ = try await daemon.admin.deleteTenant(tenant.id)
            let gone = try await daemon.exec(token, ["language": "bash", "code": "echo no"])
            #expect(gone.status == 401)
            #expect(gone.errorCode == "unauthenticated")
            #expect(try await daemon.files("GET", "/v1/files/f", token: token).status == 401)
            #expect(await Live.eventually(within: 20) { !Live.isAlive(second) }, "the worker \(second) still runs after delete")
            #expect(!FileManager.default.fileExists(atPath: StateLayout(root: daemon.stateDirectory).workspace(tenant.id)),
                    "\(daemon.logs.entries.filter { $0.level >= .warning }.map { "\($0.message) \($0.metadata)" })")
            #expect(!FileManager.default.fileExists(atPath: StateLayout(root: daemon.stateDirectory).workspaceImage(tenant.id)))
            // The storage measurement due half a second after the last call does not bring the tenant back.
            try await Task.sleep(for: .seconds(1))
            #expect(try await daemon.workerPID(tenant.id) == nil)
            #expect(!FileManager.default.fileExists(atPath: StateLayout(root: daemon.stateDirectory).tenantDirectory(tenant.id)))
            if Live.isRoot {
                #expect(await Live.eventually(within: 20) { Live.loopDevices(backing: daemon.stateDirectory).isEmpty },
                        "loop devices left: \(Live.loopDevices(backing: daemon.stateDirectory))")
                #expect(await Live.eventually(within: 20) { Live.tenantCgroups([tenant.id]).isEmpty },
                        "cgroups left: \(Live.tenantCgroups([tenant.id]))")
            }
        }
    }

    @Test func killingAWorkerMidCallGivesAClear503AndTheNextCallWorks() async throws {
        try await withLiveDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("crashy")
            _ = try await daemon.run(token, "bash", "echo warm")
            let pid = try #require(try await daemon.workerPID(tenant.id))

            let marker = "crashcall\(UInt32.random(in: 100_000...999_999))"
            let call = Task {
                try await daemon.exec(token, ["language": "bash", "code": "exec -a \(marker) sleep 60", "timeout_ms": 50_000],
                                      timeout: .seconds(90))
            }
            defer { call.cancel() }
            #expect(await Live.eventually(within: 60) { !Live.processes(containing: marker).isEmpty }, "the call never started")
            #expect(kill(pid, SIGKILL) == 0)

            let failed = try await call.value
            #expect(failed.status == 503, "\(failed.status) \(String(decoding: failed.body, as: UTF8.self))")
            #expect(failed.errorCode == "worker_crashed")
            #expect(failed.errorMessage?.isEmpty == false)
            // The tool process died with its worker.
            #expect(await Live.eventually(within: 20) { Live.processes(containing: marker).isEmpty },
                    "the tool process outlived its worker: \(Live.processes(containing: marker))")

            // Recovery: the next call starts a fresh worker (after a short backoff) and works.
            let next = try await daemon.exec(token, ["language": "python", "code": "print('again')"])
            #expect(next.status == 200, "\(String(decoding: next.body, as: UTF8.self))")
            #expect(next.json?["stdout"] as? String == "again\n")
            let status = try #require(try await daemon.admin.workers().first { $0.tenantID == tenant.id })
            #expect(status.state == "running")
            #expect(status.pid != pid)
            #expect(status.restarts >= 1)
            #expect(status.lastError?.isEmpty == false)

            // The streamed variant of the same failure ends in an error event.
            let newPID = try #require(status.pid)
            let streamMarker = "crashstream\(UInt32.random(in: 100_000...999_999))"
            let streamed = Task {
                try await daemon.exec(token, ["language": "bash", "code": "echo started; exec -a \(streamMarker) sleep 60",
                                              "timeout_ms": 50_000], stream: true, timeout: .seconds(90))
            }
            defer { streamed.cancel() }
            #expect(await Live.eventually(within: 60) { !Live.processes(containing: streamMarker).isEmpty })
            // The `started` chunk is on its way once the sleep runs; let it arrive before the worker dies.
            try await Task.sleep(for: .milliseconds(500))
            #expect(kill(newPID, SIGKILL) == 0)
            let events = serverSentEvents(try await streamed.value.body)
            #expect(events.first?.event == "stdout", "\(events.map(\.event))")
            #expect(events.last?.event == "error", "\(events.map(\.event))")
            #expect(events.last?.data.contains("worker_crashed") == true, "\(events.last?.data ?? "")")
            let after = try await daemon.exec(token, ["language": "bash", "code": "echo fine"])
            #expect(after.status == 200, "\(String(decoding: after.body, as: UTF8.self))")
        }
    }

    /// Five crashes within a minute (the manager's crash-loop count) mark the tenant degraded.
    @Test func aCrashLoopMarksTheTenantDegradedUntilTheOperatorRestartsIt() async throws {
        try await withLiveDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("loopy")
            var killed: [Int32] = []
            for round in 0..<5 {
                let response = try await daemon.exec(token, ["language": "bash", "code": "echo \(round)"])
                #expect(response.status == 200, "round \(round): \(String(decoding: response.body, as: UTF8.self))")
                let pid = try #require(try await daemon.workerPID(tenant.id), "round \(round): no worker")
                #expect(kill(pid, SIGKILL) == 0)
                killed.append(pid)
                // Wait until the supervisor has seen the crash.
                _ = await Live.eventually(within: 20) { (try? await daemon.workerPID(tenant.id)) == nil }
            }
            let refused = try await daemon.exec(token, ["language": "bash", "code": "echo no"])
            #expect(refused.status == 503)
            #expect(["worker_degraded", "worker_restarting"].contains(refused.errorCode ?? ""), "\(refused.errorCode ?? "")")
            #expect(refused.header("Retry-After") != nil)
            let status = try #require(try await daemon.admin.workers().first { $0.tenantID == tenant.id })
            #expect(status.state == "degraded", "\(status)")
            #expect(status.lastError?.isEmpty == false)
            let health = try await daemon.http("GET", "/v1/health")
            #expect((health.json?["workers"] as? [String: Any])?["degraded"] as? Int == 1)

            // The operator clears it; calls work again.
            _ = try await daemon.admin.restartWorker(tenant.id)
            let back = try await daemon.exec(token, ["language": "bash", "code": "echo back"])
            #expect(back.status == 200, "\(String(decoding: back.body, as: UTF8.self))")
            #expect(back.json?["stdout"] as? String == "back\n")
            #expect(killed.allSatisfy { !Live.isAlive($0) })
        }
    }

    @Test func aCallRightAfterARestartGetsAFreshWorker() async throws {
        try await withLiveDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("restarted")
            _ = try await daemon.run(token, "bash", "echo warm")
            let old = try #require(try await daemon.workerPID(tenant.id))
            // A call in flight keeps the old worker draining for a while.
            let long = Task { try await daemon.exec(token, ["language": "bash", "code": "sleep 5", "timeout_ms": 20_000]) }
            defer { long.cancel() }
            _ = await Live.eventually(within: 30) {
                (try? await daemon.admin.workers().first { $0.tenantID == tenant.id }?.callsInFlight ?? 0) ?? 0 > 0
            }
            let action = try await daemon.admin.restartWorker(tenant.id)
            #expect(action.action == "restarting")

            let next = try await daemon.exec(token, ["language": "bash", "code": "echo fresh"])
            #expect(next.status == 200, "the call after a restart failed: \(String(decoding: next.body, as: UTF8.self))")
            #expect(next.json?["stdout"] as? String == "fresh\n")
            let new = try #require(try await daemon.workerPID(tenant.id))
            #expect(new != old)
            #expect(await Live.eventually(within: 20) { !Live.isAlive(old) })
            _ = try? await long.value
        }
    }

    /// Each daemon sweeps only its own leftovers: another one starting on the
    /// same host (another state dir) leaves this one's tenant cgroups and workers alone.
    @Test func anotherDaemonStartingLeavesThisOnesWorkersAlone() async throws {
        try await withLiveDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("neighbour")
            _ = try await daemon.run(token, "bash", "echo warm")
            let pid = try #require(try await daemon.workerPID(tenant.id))
            let call = Task { try await daemon.exec(token, ["language": "bash", "code": "sleep 2; echo survived", "timeout_ms": 20_000]) }
            defer { call.cancel() }
            _ = await Live.eventually(within: 30) {
                (try? await daemon.admin.workers().first { $0.tenantID == tenant.id }?.callsInFlight ?? 0) ?? 0 > 0
            }
            try await withLiveDaemon { other in
                let tenants = try await other.admin.listTenants()
                #expect(tenants.isEmpty)
            }
            let result = try await call.value
            #expect(result.status == 200, "\(String(decoding: result.body, as: UTF8.self))")
            #expect(result.json?["stdout"] as? String == "survived\n", "\(String(decoding: result.body, as: UTF8.self))")
            #expect(Live.isAlive(pid))
            if Live.isRoot { #expect(!Live.tenantCgroups([tenant.id]).isEmpty) }
        }
    }

    /// A worker that dies before it answers HELLO leaves no tenant cgroup behind.
    @Test(.enabled(if: geteuid() == 0, "tenant cgroups exist in root mode only"))
    func aWorkerThatFailsItsHandshakeLeavesNoCgroup() async throws {
        try await withLiveDaemon({ $0.workerBinary = "/bin/false" }) { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("mute")
            let failed = try await daemon.exec(token, ["language": "bash", "code": "echo never"])
            #expect(failed.status == 503, "\(String(decoding: failed.body, as: UTF8.self))")
            #expect(failed.errorCode == "worker_unavailable")
            // Removed before the answer: no wait, no sweep at the next start.
            #expect(Live.tenantCgroups([tenant.id]).isEmpty, "left: \(Live.tenantCgroups([tenant.id]))")
            let status = try #require(try await daemon.admin.workers().first { $0.tenantID == tenant.id })
            #expect(status.state != "running")
            #expect(status.lastError?.isEmpty == false)
        }
    }

    @Test func anIdleWorkerIsStoppedAndTheNextCallStartsAnother() async throws {
        try await withLiveDaemon({ $0.workerIdleSeconds = 1 }) { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("idle")
            // The worker is looked up while a call keeps it busy: an idle second
            // could pass before a loaded machine answers the lookup.
            let busy = Task { try await daemon.run(token, "bash", "sleep 3; echo one")["stdout"] as? String }
            var found: Int32?
            #expect(await Live.eventually(within: 30) {
                found = try? await daemon.workerPID(tenant.id)
                return found != nil
            })
            let first = try #require(found)
            #expect(try await busy.value == "one\n")
            #expect(await Live.eventually(within: 30) { !Live.isAlive(first) }, "the idle worker \(first) was not stopped")
            #expect(await Live.eventually(within: 10) {
                (try? await daemon.admin.workers().first { $0.tenantID == tenant.id }?.state) == "stopped"
            })
            let again = try await daemon.run(token, "bash", "echo two")
            #expect(again["stdout"] as? String == "two\n")
            let status = try #require(try await daemon.admin.workers().first { $0.tenantID == tenant.id })
            #expect(status.restarts == 0, "an idle stop counted as a crash")
        }
    }

    /// A worker frozen (SIGSTOP) cannot answer the stop it is sent: a graceful
    /// stop of `warden serve` kills it once the grace is over, and ends
    /// without leaving a process, a cgroup or a loop device behind.
    @Test func aStopAWorkerCannotAnswerEndsInAKillAndLeavesNothing() async throws {
        let warden = try #require(Live.builtBinary("warden"), "warden must be built beside the test bundle")
        let directory = try TemporaryDirectory()
        let stateDirectory = directory.path + "/state"
        let serve = try ServeProcess(binary: warden, stateDirectory: stateDirectory, logPath: directory.path + "/serve.log",
                                     arguments: ["--shutdown-grace", "1"])
        defer { serve.stop() }
        let port = try #require(await serve.waitForPort(), "warden serve did not start:\n\(serve.log)")
        let admin = AdminClient(stateDirectory: stateDirectory, timeout: .seconds(60))
        let tenant = try await admin.createTenant(name: "frozen", plan: "pro")
        let token = try await admin.issueKey(for: tenant.id).token
        let first = try await LocalHTTPClient.send(
            "POST", "/v1/exec", to: .tcp(host: "127.0.0.1", port: port), headers: bearer(token),
            body: Live.json(["language": "bash", "code": "echo up"]), timeout: .seconds(60))
        #expect(first.status == 200, "\(String(decoding: first.body, as: UTF8.self))")
        let worker = try #require(try await admin.workers().first { $0.tenantID == tenant.id }?.pid)
        let everything = Set([worker] + Live.descendants(of: worker))
        kill(worker, SIGSTOP)

        let stopping = ContinuousClock.now
        await serve.stopAndWait()
        let took = ContinuousClock.now - stopping
        // The grace (1 s), the worker's own bound (1 s more), the kill: far from the harness's 45 s.
        #expect(took < .seconds(30), "the stop took \(took):\n\(serve.log)")
        #expect(everything.allSatisfy { !Live.isAlive($0) }, "left: \(everything.filter(Live.isAlive))")
        let log = serve.log
        #expect(log.contains("workers stopped") && log.contains("left_running=0"), "\(log)")
        if Live.isRoot {
            #expect(await Live.eventually(within: 10) { Live.tenantCgroups([tenant.id]).isEmpty },
                    "cgroups left: \(Live.tenantCgroups([tenant.id]))")
            #expect(await Live.eventually(within: 10) { Live.loopDevices(backing: stateDirectory).isEmpty },
                    "loop devices left: \(Live.loopDevices(backing: stateDirectory))")
        }
    }

    @Test func killingTheSupervisorLeavesNothingBehindAndARestartSweeps() async throws {
        let warden = try #require(Live.builtBinary("warden"), "warden must be built beside the test bundle")
        let directory = try TemporaryDirectory()
        let stateDirectory = directory.path + "/state"
        let serve = try ServeProcess(binary: warden, stateDirectory: stateDirectory, logPath: directory.path + "/serve.log")
        defer { serve.stop() }
        let port = try #require(await serve.waitForPort(), "warden serve did not start:\n\(serve.log)")
        let admin = AdminClient(stateDirectory: stateDirectory, timeout: .seconds(60))

        var tenants: [(Tenant, String)] = []
        for name in ["left-a", "left-b"] {
            let tenant = try await admin.createTenant(name: name, plan: "pro")
            tenants.append((tenant, try await admin.issueKey(for: tenant.id).token))
        }
        let endpoint = LocalHTTPClient.Endpoint.tcp(host: "127.0.0.1", port: port)
        let exec: @Sendable (String, String, Duration) async throws -> LocalHTTPClient.Response = { token, code, timeout in
            try await LocalHTTPClient.send("POST", "/v1/exec", to: endpoint, headers: bearer(token),
                                           body: Live.json(["language": "bash", "code": code, "timeout_ms": 50_000]), timeout: timeout)
        }
        // One idle worker, one in the middle of a call.
        #expect(try await exec(tenants[0].1, "echo idle", .seconds(60)).status == 200)
        let marker = "orphan\(UInt32.random(in: 100_000...999_999))"
        let token = tenants[1].1
        let call = Task { try? await exec(token, "exec -a \(marker) sleep 60", .seconds(90)) }
        defer { call.cancel() }
        #expect(await Live.eventually(within: 60) { !Live.processes(containing: marker).isEmpty }, "the call never started")
        let workers = try await admin.workers()
        let workerPIDs = workers.compactMap(\.pid)
        #expect(workerPIDs.count == 2, "\(workers)")
        let toolPIDs = Live.processes(containing: marker)
        let everything = Set(workerPIDs + workerPIDs.flatMap(Live.descendants(of:)) + toolPIDs)
        let tenantIDs = tenants.map(\.0.id)
        if Live.isRoot {
            #expect(!Live.tenantCgroups(tenantIDs).isEmpty, "no tenant cgroups while workers run")
            // Each workspace is an image on a loop device, mounted only in its jail.
            #expect(Live.loopDevices(backing: stateDirectory).count == 2, "\(Live.loopDevices(backing: stateDirectory))")
        }

        serve.kill9()

        // No worker or tool process survives the supervisor.
        let allGone = await Live.eventually(within: 20) { everything.allSatisfy { !Live.isAlive($0) } }
        #expect(allGone, "left running after kill -9: \(everything.filter(Live.isAlive))")
        #expect(Live.processes(containing: marker).isEmpty)
        #expect(Live.processes(containing: stateDirectory).isEmpty, "processes mention the state dir: \(Live.processes(containing: stateDirectory))")
        if Live.isRoot {
            // Nothing runs in the tenant cgroups any more...
            let cgroupsEmpty = await Live.eventually(within: 20) {
                Live.tenantCgroups(tenantIDs).allSatisfy { dir in
                    ((try? String(contentsOfFile: dir + "/cgroup.procs", encoding: .utf8)) ?? "")
                        .trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                }
            }
            #expect(cgroupsEmpty, "processes left in tenant cgroups")
            // ...and the daemon's janitor, which outlives it, removes their directories.
            let cgroupsGone = await Live.eventually(within: 5) { Live.tenantCgroups(tenantIDs).isEmpty }
            #expect(cgroupsGone, "left: \(Live.tenantCgroups(tenantIDs))")
        }
        // No mount of the dead jails is left in the host's mount table.
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        #expect(!mounts.contains(stateDirectory), "mounts left: \(mounts.split(separator: "\n").filter { $0.contains(stateDirectory) })")
        // No loop device still holds a workspace image: they detach themselves once their jail's mount is gone.
        let loopsGone = await Live.eventually(within: 10) { Live.loopDevices(backing: stateDirectory).isEmpty }
        #expect(loopsGone, "loop devices left: \(Live.loopDevices(backing: stateDirectory))")

        // A restart on the same state dir works, sweeps leftovers, and runs the same tenants.
        let again = try ServeProcess(binary: warden, stateDirectory: stateDirectory, logPath: directory.path + "/serve2.log")
        defer { again.stop() }
        let newPort = try #require(await again.waitForPort(), "warden serve did not restart:\n\(again.log)")
        if Live.isRoot {
            #expect(Live.tenantCgroups(tenantIDs).isEmpty, "the restart did not sweep: \(Live.tenantCgroups(tenantIDs))")
        }
        for (tenant, token) in tenants {
            let response = try await LocalHTTPClient.send("POST", "/v1/exec", to: .tcp(host: "127.0.0.1", port: newPort),
                                                          headers: bearer(token),
                                                          body: Live.json(["language": "python", "code": "print('alive')"]),
                                                          timeout: .seconds(60))
            #expect(response.status == 200, "\(tenant.name): \(String(decoding: response.body, as: UTF8.self))\n\(again.log)")
            #expect(response.json?["stdout"] as? String == "alive\n")
        }
        await again.stopAndWait()
        #expect(again.process.terminationStatus == 0, "\(again.log)")
        // A graceful stop leaves nothing either (what a busy cgroup kept, the janitor removes as the daemon ends).
        #expect(Live.processes(containing: stateDirectory).isEmpty, "\(Live.processes(containing: stateDirectory))")
        if Live.isRoot {
            let gone = await Live.eventually(within: 10) { Live.tenantCgroups(tenantIDs).isEmpty }
            #expect(gone, "left after a graceful stop: \(Live.tenantCgroups(tenantIDs))\n\(again.log)")
        }
    }

    /// The rootless path: `warden serve` as nobody (uid 65534), from a copy of
    /// the binaries in a world-readable temp dir, still starts and runs Python.
    @Test(.enabled(if: geteuid() == 0, "needs root to switch to an unprivileged user with setpriv"))
    func anUnprivilegedDaemonStartsAndRunsPython() async throws {
        let warden = try #require(Live.builtBinary("warden"))
        let worker = try #require(Live.builtBinary("warden-worker"))
        let fm = FileManager.default
        let copy = "/tmp/warden-rootless-e2e-\(getpid())-\(UInt16.random(in: 0...9999))"
        try fm.createDirectory(atPath: copy, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        defer { try? fm.removeItem(atPath: copy) }
        // Copied by cp, not by this process: a descriptor open for writing here could leak into a
        // child another test forks at that moment, and the copy could then not be run (ETXTBSY).
        #expect(try await runOffPool("/bin/cp", [warden, worker, copy + "/"]).status == 0)
        try fm.copyItem(atPath: Live.policies, toPath: copy + "/policies")
        // The egress proxy of an unprivileged daemon may reach this server, and nothing else.
        let server = try await TestWebServer.start()
        defer { Task { await server.stop() } }
        try Live.json(["egress": localEgress(ports: [server.port])]).write(to: URL(fileURLWithPath: copy + "/policies/egress.json"))
        let resources = (warden as NSString).deletingLastPathComponent + "/Warden_Supervisor.resources"
        if fm.fileExists(atPath: resources) { try fm.copyItem(atPath: resources, toPath: copy + "/Warden_Supervisor.resources") }
        _ = try runProcess("/bin/chmod", ["-R", "a+rX", copy])
        let stateDirectory = copy + "/state"
        try fm.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        #expect(chown(stateDirectory, 65534, 65534) == 0)

        let serve = try ServeProcess(
            binary: copy + "/warden", stateDirectory: stateDirectory, logPath: copy + "/serve.log",
            prefix: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"],
            environment: ["WARDEN_POLICIES": copy + "/policies", "HOME": "/tmp", "PATH": "/usr/bin:/bin"])
        defer { serve.stop() }
        let port = try #require(await serve.waitForPort(), "warden serve did not start as uid 65534:\n\(serve.log)")
        let log = serve.log
        #expect(log.contains("without root"), "the weaker guarantees are not stated at start-up:\n\(log)")
        let processUID = (try? String(contentsOfFile: "/proc/\(serve.pid)/status", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("Uid:") }
        #expect(processUID?.contains("65534") == true)

        // Root may use the admin socket of a daemon run by another user.
        let admin = AdminClient(stateDirectory: stateDirectory, timeout: .seconds(60))
        let tenant = try await admin.createTenant(name: "rootless", plan: "pro")
        let token = try await admin.issueKey(for: tenant.id).token

        let response = try await LocalHTTPClient.send(
            "POST", "/v1/exec", to: .tcp(host: "127.0.0.1", port: port), headers: bearer(token),
            body: Live.json(["language": "python", "code": "import os\nprint('rootless', os.getuid() != 0)"]), timeout: .seconds(90))
        let body = String(decoding: response.body, as: UTF8.self)
        #expect(response.status == 200,
                "a python exec through a daemon run as uid 65534 failed: \(response.status) \(body)\n--- serve log ---\n\(serve.log)")
        #expect(response.json?["stdout"] as? String == "rootless True\n", "\(body)")
        // The calls after the first run in jails armed meanwhile, rootless too: each sees only its own code.
        for round in 0..<3 {
            try await Task.sleep(for: .milliseconds(200))
            let next = try await LocalHTTPClient.send(
                "POST", "/v1/exec", to: .tcp(host: "127.0.0.1", port: port), headers: bearer(token),
                body: Live.json(["language": "bash", "code": "echo round \(round); ls /tmp"]), timeout: .seconds(90))
            #expect(next.json?["stdout"] as? String == "round \(round)\n", "\(String(decoding: next.body, as: UTF8.self))")
        }

        // exec with the network: the tool jail's own namespace and the proxy's listener work unprivileged too.
        let online = try await LocalHTTPClient.send(
            "POST", "/v1/exec", to: .tcp(host: "127.0.0.1", port: port), headers: bearer(token),
            body: Live.json(["language": "python", "network": true, "timeout_ms": 60_000,
                             "code": fetchScript("http://127.0.0.1:\(server.port)/text/rootless")]), timeout: .seconds(90))
        #expect(online.json?["stdout"] as? String == "200 hello rootless\n",
                "\(String(decoding: online.body, as: UTF8.self))\n--- serve log ---\n\(serve.log)")
        #expect(try await admin.quota(tenant.id).metrics.first { $0.metric == "egress.bytes.month" }?.used == Double(server.wireBytes))

        // The browser: its jail nested under the caller's own id works unprivileged too.
        let page = try await LocalHTTPClient.send(
            "POST", "/v1/browser/content", to: .tcp(host: "127.0.0.1", port: port), headers: bearer(token),
            body: Live.json(["html": "<title>r</title><p>a rootless page</p>"]), timeout: .seconds(90))
        #expect(page.status == 200 && (page.json?["text"] as? String)?.contains("a rootless page") == true,
                "\(String(decoding: page.body, as: UTF8.self))\n--- serve log ---\n\(serve.log)")

        let files = try await LocalHTTPClient.send("PUT", "/v1/files/r.txt", to: .tcp(host: "127.0.0.1", port: port),
                                                   headers: bearer(token), body: Data("r".utf8), timeout: .seconds(60))
        #expect(files.status == 201, "\(String(decoding: files.body, as: UTF8.self))")

        // Storage rootless: a directory, accounted; the files API refuses writes past
        // the limit, exec can pass it (and says so nowhere but the gauge), as stated.
        #expect(log.contains("exec can write past it"), "\(log)")
        _ = try await admin.setTenantLimit(tenant.id, metric: "storage.bytes", limit: Limit(Double(1 << 20)))
        let put: @Sendable (String, Int) async throws -> LocalHTTPClient.Response = { path, bytes in
            try await LocalHTTPClient.send("PUT", "/v1/files/" + path, to: .tcp(host: "127.0.0.1", port: port),
                                           headers: bearer(token), body: Data(count: bytes), timeout: .seconds(60))
        }
        #expect(try await put("half.bin", 600 << 10).status == 201)
        let over = try await put("more.bin", 600 << 10)
        #expect(over.status == 507, "\(String(decoding: over.body, as: UTF8.self))")
        #expect(over.errorCode == "no_space")
        let dd = try await LocalHTTPClient.send(
            "POST", "/v1/exec", to: .tcp(host: "127.0.0.1", port: port), headers: bearer(token),
            body: Live.json(["language": "bash", "code": "dd if=/dev/urandom of=/workspace/big bs=1M count=3 status=none && echo wrote"]),
            timeout: .seconds(90))
        #expect(dd.json?["stdout"] as? String == "wrote\n", "\(String(decoding: dd.body, as: UTF8.self))")
        #expect(dd.json?["storage_full"] as? Bool == true, "\(String(decoding: dd.body, as: UTF8.self))")
        let used = try await admin.quota(tenant.id).metrics.first { $0.metric == "storage.bytes" }?.used ?? 0
        #expect(used > Double(3 << 20), "storage.bytes used \(used)\n\(serve.log)")
        #expect(!fm.fileExists(atPath: StateLayout(root: stateDirectory).workspaceImage(tenant.id)))
    }
}
