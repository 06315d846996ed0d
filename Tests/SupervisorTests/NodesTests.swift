import Foundation
import NIOConcurrencyHelpers
import Store
import Supervisor
import Synchronization
import Testing

/// Three real `warden serve` processes sharing one PostgreSQL: calls through
/// any node run on the node holding the tenant's lease, a killed node's
/// tenants move within the lease TTL, quotas, the ledger and the audit log
/// stay one, and a database restart under load is survived without a restart
/// of Warden. A sampler watches the machine's processes the whole time: no
/// tenant ever has workers under two nodes.
@Suite("Nodes sharing one PostgreSQL", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["WARDEN_TEST_POSTGRES"].map { !$0.isEmpty } ?? false,
                "WARDEN_TEST_POSTGRES is not set"),
       .enabled(if: Live.isRoot, "workers in tenant jails need root"))
struct NodesTests {
    static let nodeHeader = "Warden-Node"
    static let forwardedHeader = "Warden-Forwarded-By"

    @Test(.timeLimit(.minutes(4)))
    func callsThroughAnyNodeRunOnTheLeaseHolderWithTheirRequestIDAndStreamsComeThrough() async throws {
        try await withNodeCluster { cluster, _ in
            var tenants: [(Tenant, String)] = []
            for index in 0..<3 { tenants.append(try await cluster.tenantWithKey("spread\(index)")) }
            let sampler = WorkerSampler(tenants: tenants.map(\.0.id), nodePIDs: cluster.nodePIDs)

            // A tenant's first call takes its lease on the node it reached.
            for (index, (_, token)) in tenants.enumerated() {
                let first = try await cluster.exec(via: index, token: token, ["language": "bash", "code": "echo hi"])
                #expect(first.status == 200, "\(String(decoding: first.body, as: UTF8.self))")
                #expect(first.header(Self.nodeHeader) == NodeCluster.name(index) && first.header(Self.forwardedHeader) == nil)
            }
            let leases = Dictionary(uniqueKeysWithValues: try await cluster.admin(1).leases().map { ($0.tenantID, $0.nodeID) })
            #expect(tenants.indices.allSatisfy { leases[tenants[$0].0.id] == NodeCluster.name($0) }, "\(leases)")

            // Every tenant through every node: run on the holder, forwarded once, with the caller's request id.
            for (tenantIndex, (tenant, token)) in tenants.enumerated() {
                for via in 0..<3 {
                    let requestID = "trace-\(tenantIndex)-\(via)"
                    let response = try await cluster.exec(via: via, token: token, ["language": "python", "code": "print(6 * 7)"],
                                                          headers: [("X-Request-Id", requestID)])
                    #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
                    #expect(response.json?["stdout"] as? String == "42\n")
                    #expect(response.json?["request_id"] as? String == requestID && response.header("X-Request-Id") == requestID)
                    #expect(response.header(Self.nodeHeader) == leases[tenant.id])
                    #expect(response.header(Self.forwardedHeader) == (via == tenantIndex ? nil : NodeCluster.name(via)))
                }
                // The policy decided each call once, on the holder: one audit log for every node.
                let decisions = try await cluster.admin(2).audit(AuditQuery(limit: 1000), tenant: tenant.id)
                    .filter { $0.event == "decision" && ($0.requestID ?? "").hasPrefix("trace-\(tenantIndex)-") }
                #expect(decisions.count == 3)
            }

            // A streamed call through a node that does not hold the lease: the first line arrives while the
            // code still runs (it waits for a file the test writes only once it has seen that line).
            let (streamed, token) = tenants[0]
            let released = Mutex(false)
            let response = try await cluster.exec(
                via: 1, token: token,
                ["language": "python", "timeout_ms": 30_000,
                 "code": "import os, time\nprint('first', flush=True)\nwhile not os.path.exists('/workspace/go'): time.sleep(0.05)\nprint('second')"],
                stream: true) { chunk in
                    guard String(decoding: chunk, as: UTF8.self).contains("first"),
                          released.withLock({ done in defer { done = true }; return !done }) else { return }
                    Task {
                        _ = try? await cluster.send("PUT", "/v1/files/go", via: 2, token: token, body: Data("go".utf8))
                    }
                }
            #expect(response.status == 200 && response.header(Self.nodeHeader) == leases[streamed.id])
            #expect(response.header("Content-Type")?.hasPrefix("text/event-stream") == true)
            let events = serverSentEvents(response.body)
            let stdout = events.filter { $0.event == "stdout" }.compactMap { event in
                (try? JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: Any])?["data"] as? String
            }
            #expect(stdout.joined() == "first\nsecond\n", "\(events)")
            #expect(events.last?.event == "result" && events.last.map { $0.data.contains("\"status\":\"ok\"") } == true)

            // A client that hangs up on a forwarding node stops the call on the holder too.
            let holder = try #require(cluster.index(of: leases[streamed.id]))
            _ = try? await LocalHTTPClient.send(
                "POST", "/v1/exec", to: .tcp(host: "127.0.0.1", port: cluster.ports[(holder + 1) % 3]),
                headers: bearer(token) + [("Content-Type", "application/json"), ("Accept", "text/event-stream"),
                                          ("X-Request-Id", "hangup-1")],
                body: Live.json(["language": "python", "timeout_ms": 60_000,
                                 "code": "import time\nprint('going', flush=True)\ntime.sleep(50)"]),
                timeout: .seconds(3))
            #expect(await Live.eventually(within: 20) {
                let workers = (try? await cluster.admin(holder).workers()) ?? []
                return workers.first { $0.tenantID == streamed.id }?.callsInFlight == 0
            }, "the call went on on the holder after its client left")
            #expect(try await cluster.admin(0).audit(AuditQuery(limit: 1000), tenant: streamed.id)
                .contains { $0.requestID == "hangup-1" && $0.event == "decision" }, "the call reached the holder")

            // Files go to the holder too: what one node wrote, every node reads.
            let read = try await cluster.send("GET", "/v1/files/go", via: 0, token: token)
            #expect(read.status == 200 && String(decoding: read.body, as: UTF8.self) == "go")

            // The nodes list: three live nodes, their addresses, and their leases.
            let listed = try await cluster.admin(0).nodes()
            #expect(listed.node == "node-1")
            #expect(listed.nodes.map(\.id) == ["node-1", "node-2", "node-3"])
            #expect(listed.nodes.allSatisfy { $0.state == .live && $0.leases == 1 && $0.heartbeatAgeMs < 3000 })
            #expect(listed.nodes.map(\.advertise) == cluster.ports.map { "http://127.0.0.1:\($0)" })
            #expect(await Live.eventually(within: 10) {
                (try? await cluster.admin(0).nodes().nodes.allSatisfy { $0.workersRunning == 1 }) ?? false
            })
            let (status, table) = try await runOffPool(cluster.binary, ["nodes", "list", "--state-dir", cluster.nodes[1].stateDirectory])
            #expect(status == 0 && table.contains("node-2 (this)") && table.contains("live"), "\(table)")

            let watched = sampler.stop()
            #expect(watched.samples > 0 && watched.doubled.isEmpty, "\(watched.doubled)")
            #expect(watched.seen == Set(tenants.map(\.0.id)))
        }
    }

    @Test(.timeLimit(.minutes(4)))
    func aKilledNodesTenantsServeAgainFromAnotherWithinTheTTLAndNoUsageIsLost() async throws {
        try await withNodeCluster { cluster, _ in
            var tenants: [(Tenant, String)] = []
            for index in 0..<6 { tenants.append(try await cluster.tenantWithKey("mover\(index)")) }
            let sampler = WorkerSampler(tenants: tenants.map(\.0.id), nodePIDs: cluster.nodePIDs)
            var succeeded: [String: Int] = [:]
            // Tenant i lives on node i % 3; then every tenant is called through every node.
            for round in 0..<2 {
                for (index, (tenant, token)) in tenants.enumerated() {
                    let via = round == 0 ? index % 3 : (index + 1) % 3
                    let response = try await cluster.exec(via: via, token: token, ["language": "bash", "code": "echo \(round)"])
                    #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
                    succeeded[tenant.id, default: 0] += 1
                }
            }
            let victim = 0
            let moving = tenants.indices.filter { $0 % 3 == victim }.map { tenants[$0] }

            // A call runs on the victim when it dies: it must end in the ledger as interrupted.
            let (cut, cutToken) = moving[0]
            let inFlight = Task {
                try? await cluster.exec(via: victim, token: cutToken,
                                        ["language": "bash", "timeout_ms": 60_000, "code": "touch /workspace/started; sleep 50"])
            }
            #expect(await Live.eventually(within: 30) {
                (try? await cluster.send("GET", "/v1/files/started", via: victim, token: cutToken).status) == 200
            })

            cluster.nodes[victim].kill9()
            let killed = ContinuousClock.now
            _ = await inFlight.value
            var movedAfter: [Duration] = []
            for (tenant, token) in moving {
                var answered = false
                while ContinuousClock.now - killed < .seconds(30) {
                    let response = try await cluster.exec(via: 1, token: token, ["language": "bash", "code": "echo moved"])
                    if response.status == 200 {
                        #expect(response.header(Self.nodeHeader) != NodeCluster.name(victim))
                        succeeded[tenant.id, default: 0] += 1
                        answered = true
                        break
                    }
                    #expect(response.status == 503, "\(String(decoding: response.body, as: UTF8.self))")
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(answered)
                movedAfter.append(ContinuousClock.now - killed)
            }
            // The lease TTL, and a margin for a loaded machine.
            #expect(movedAfter.allSatisfy { $0 < .milliseconds(NodeCluster.leaseTTLMs) + .seconds(5) }, "\(movedAfter)")

            // The dead node is seen dead, and the call it ran is settled by a live node.
            #expect(await Live.eventually(within: 15) {
                (try? await cluster.admin(1).nodes().nodes.first { $0.id == NodeCluster.name(victim) }?.state) == .dead
            })
            #expect(await Live.eventually(within: 20) {
                guard let quota = try? await cluster.admin(2).quota(cut.id) else { return false }
                return quota.metrics.first { $0.metric == "concurrent.calls" }?.used == 0
            })
            for (tenant, _) in tenants {
                let usage = try await cluster.admin(2).usage(tenant: tenant.id, by: .tool)
                let row = try #require(usage.rows.first { $0.group == "exec" })
                let ok = succeeded[tenant.id] ?? 0
                #expect(row.calls - row.failed == ok, "every answered call is in the ledger")
                #expect(row.failed == (tenant.id == cut.id ? 1 : 0), "the cut call is there as interrupted, and nothing else failed")
                let calls = try #require(try await cluster.admin(1).quota(tenant.id).metrics.first { $0.metric == "exec.calls.day" })
                #expect(calls.used == Double(row.calls) && calls.reserved == 0)
            }

            let watched = sampler.stop()
            #expect(watched.samples > 0 && watched.doubled.isEmpty, "\(watched.doubled)")
            #expect(watched.seen == Set(tenants.map(\.0.id)))
        }
    }

    @Test(.timeLimit(.minutes(4)))
    func aNodeStoppedGracefullyHandsItsTenantsOverAtOnce() async throws {
        try await withNodeCluster { cluster, _ in
            let (tenant, token) = try await cluster.tenantWithKey("handover")
            #expect(try await cluster.exec(via: 0, token: token, ["language": "bash", "code": "true"]).status == 200)
            #expect(try await cluster.admin(1).leases().map(\.nodeID) == ["node-1"])

            // SIGTERM: the node finishes, stops its workers, releases its leases and leaves.
            await cluster.nodes[0].stopAndWait()
            #expect(cluster.nodes[0].process.terminationStatus == 0)
            #expect(try await cluster.admin(1).leases().isEmpty)
            #expect(try await cluster.admin(1).nodes().nodes.first { $0.id == "node-1" }?.state == .left)
            let moved = try await cluster.exec(via: 1, token: token, ["language": "bash", "code": "true"])
            #expect(moved.status == 200 && moved.header(Self.nodeHeader) == "node-2", "no wait for a TTL")
            #expect(WorkerSampler.workerNodes(tenants: [tenant.id], nodePIDs: cluster.nodePIDs) == [tenant.id: ["node-2"]])
        }
    }

    @Test(.timeLimit(.minutes(4)))
    func aHundredConcurrentCallsSpreadOverThreeNodesAgainstALimitOfTenRunExactlyTen() async throws {
        try await withNodeCluster { cluster, _ in
            let (tenant, token) = try await cluster.tenantWithKey("racer")
            _ = try await cluster.admin(1).setTenantLimit(tenant.id, metric: "exec.calls.day", limit: Limit(10))
            let responses = try await withThrowingTaskGroup(of: LocalHTTPClient.Response.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        try await cluster.exec(via: index % 3, token: token,
                                               ["language": "bash", "code": "echo x >> /workspace/runs"])
                    }
                }
                return try await group.reduce(into: [LocalHTTPClient.Response]()) { $0.append($1) }
            }
            let statuses = Dictionary(grouping: responses, by: \.status).mapValues(\.count)
            #expect(statuses[200] == 10 && statuses[429] == 90, "\(statuses) \(Set(responses.compactMap { $0.errorMessage }))")
            #expect(Set(responses.filter { $0.status == 200 }.compactMap { $0.header(Self.nodeHeader) }).count == 1)

            let runs = try await cluster.send("GET", "/v1/files/runs", via: 2, token: token)
            #expect(String(decoding: runs.body, as: UTF8.self).split(separator: "\n").count == 10)
            for node in 0..<3 {
                let calls = try #require(try await cluster.admin(node).quota(tenant.id).metrics.first { $0.metric == "exec.calls.day" })
                #expect(calls.used == 10 && calls.reserved == 0)
                let ledger = try await cluster.admin(node).usage(tenant: tenant.id, by: .tool)
                #expect(ledger.rows.first { $0.group == "exec" }?.calls == 10)
            }
            // Each call was decided once, by the node that ran or refused it, in the one audit log.
            let decisions = try await cluster.admin(0).audit(AuditQuery(limit: 1000), tenant: tenant.id)
                .filter { $0.event == "decision" && $0.tool == "exec" }
            #expect(decisions.count == 100 && Set(decisions.compactMap(\.requestID)).count == 100)
        }
    }

    @Test(.timeLimit(.minutes(4)))
    func aPlanAndAnApprovalMadeThroughOneNodeReachTheNodeServingTheTenant() async throws {
        try await withNodeCluster { cluster, _ in
            // A plan created through node-1 reaches the other nodes' policies within a chore round.
            _ = try await cluster.admin(0).createPlan(Plan(name: "gated", tools: ["exec"], network: false,
                                                           approvalTools: ["exec"], limits: [:]))
            let (tenant, token) = try await cluster.tenantWithKey("gated", plan: "gated")
            var held = try await cluster.exec(via: 1, token: token, ["language": "bash", "code": "echo approved"])
            for _ in 0..<100 where held.status != 202 {
                try await Task.sleep(for: .milliseconds(100))
                held = try await cluster.exec(via: 1, token: token, ["language": "bash", "code": "echo approved"])
            }
            #expect(held.status == 202, "\(String(decoding: held.body, as: UTF8.self))")
            let id = try #require(held.json?["approval_id"] as? String)
            #expect(try await cluster.admin(2).leases().map(\.nodeID) == ["node-2"])

            // Approved through node-1, which does not serve the tenant: node-2 runs it.
            _ = try await cluster.admin(0).approve(id)
            let outcome = try await cluster.send("GET", "/v1/approvals/\(id)?wait=30", via: 2, token: token)
            #expect(outcome.json?["status"] as? String == "completed", "\(String(decoding: outcome.body, as: UTF8.self))")
            #expect((outcome.json?["result"] as? [String: Any])?["stdout"] as? String == "approved\n")
            #expect(WorkerSampler.workerNodes(tenants: [tenant.id], nodePIDs: cluster.nodePIDs) == [tenant.id: ["node-2"]])
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func theDatabaseRestartedUnderLoadFailsCallsWith503AndTheyRecoverWithoutARestart() async throws {
        try await withNodeCluster { cluster, postgres in
            var created: [(Tenant, String)] = []
            for index in 0..<3 { created.append(try await cluster.tenantWithKey("steady\(index)")) }
            let tenants = created
            let sampler = WorkerSampler(tenants: tenants.map(\.0.id), nodePIDs: cluster.nodePIDs)
            for (index, (_, token)) in tenants.enumerated() {
                #expect(try await cluster.exec(via: index, token: token, ["language": "bash", "code": "true"]).status == 200)
            }

            struct Outcome: Sendable {
                var started: ContinuousClock.Instant
                var ended: ContinuousClock.Instant
                var status: Int
                var code: String?
            }
            let outcomes = NIOLockedValueBox<[Outcome]>([])
            let stop = NIOLockedValueBox(false)
            let load = Task {
                await withTaskGroup(of: Void.self) { group in
                    for worker in 0..<6 {
                        group.addTask {
                            var turn = worker
                            while !stop.withLockedValue({ $0 }) {
                                // Every tenant through every node, in turn.
                                let (_, token) = tenants[turn % tenants.count]
                                let started = ContinuousClock.now
                                let response = try? await cluster.exec(via: (turn / tenants.count) % 3, token: token,
                                                                       ["language": "bash", "code": "echo load"])
                                outcomes.withLockedValue {
                                    $0.append(Outcome(started: started, ended: .now, status: response?.status ?? 0,
                                                      code: response?.errorCode))
                                }
                                turn += 1
                                try? await Task.sleep(for: .milliseconds(20))
                            }
                        }
                    }
                }
            }
            try await Task.sleep(for: .seconds(2))

            try await postgres.run("down")
            let down = ContinuousClock.now
            // Past the lease TTL: every node has stopped the workers of leases it could not renew.
            try await Task.sleep(for: .milliseconds(NodeCluster.leaseTTLMs) + .seconds(2))
            let duringOutage = WorkerSampler.workerNodes(tenants: tenants.map(\.0.id), nodePIDs: cluster.nodePIDs)
            #expect(duringOutage.isEmpty, "workers still running without their leases: \(duringOutage)")
            let health = try await LocalHTTPClient.send("GET", "/v1/health", to: .tcp(host: "127.0.0.1", port: cluster.ports[0]),
                                                        timeout: .seconds(60))
            #expect(health.status == 503)
            // The server answers before `up` returns: calls ending after this
            // moment may have met it back, with leases changing hands.
            let restarting = ContinuousClock.now
            try await postgres.run("up")
            let up = ContinuousClock.now

            // Every tenant answers through every node again, with the same Warden processes.
            for (_, token) in tenants {
                for via in 0..<3 {
                    #expect(await Live.eventually(within: 30) {
                        (try? await cluster.exec(via: via, token: token, ["language": "bash", "code": "true"]).status) == 200
                    })
                }
            }
            try await Task.sleep(for: .seconds(1))
            stop.withLockedValue { $0 = true }
            await load.value

            let all = outcomes.withLockedValue { $0 }
            let outage = all.filter { $0.started > down + .milliseconds(500) && $0.ended < restarting }
            #expect(!outage.isEmpty)
            #expect(outage.allSatisfy { $0.status == 503 }, "\(Dictionary(grouping: outage, by: \.status).mapValues(\.count))")
            #expect(outage.allSatisfy { $0.code == "store_unavailable" || $0.code == "node_unreachable" },
                    "\(Set(outage.compactMap(\.code)))")
            #expect(all.contains { $0.started > up && $0.status == 200 })
            #expect(cluster.nodes.allSatisfy { $0.process.isRunning })

            // Calls cut by the outage are settled once the store is back: nothing stays reserved.
            for (tenant, _) in tenants {
                #expect(await Live.eventually(within: 30) {
                    guard let quota = try? await cluster.admin(0).quota(tenant.id) else { return false }
                    return quota.metrics.first { $0.metric == "concurrent.calls" }?.used == 0
                        && quota.metrics.first { $0.metric == "exec.calls.day" }?.reserved == 0
                })
            }
            let watched = sampler.stop()
            #expect(watched.samples > 0 && watched.doubled.isEmpty, "\(watched.doubled)")
            #expect(watched.seen == Set(tenants.map(\.0.id)))
        }
    }
}
