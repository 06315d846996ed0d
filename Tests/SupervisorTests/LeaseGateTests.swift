import Foundation
import Store
import Supervisor
import Testing

/// Tenant leases on one node (SQLite): another process on the same store
/// plays the other node. A tenant leased elsewhere never gets a worker here;
/// a node whose id another process takes stops everything; a tenant
/// suspended through another node loses its worker here at the next heartbeat.
@Suite("Tenant leases on one node")
struct LeaseGateTests {
    /// Short enough for the tests to see heartbeats act, long enough that a
    /// loaded machine (the whole suite runs at once) renews in time.
    /// Frequent heartbeats (what these tests wait for) and a TTL long enough
    /// that a heartbeat delayed by a loaded machine never fences the worker.
    static func fastBeats(_ configuration: inout SupervisorConfiguration) {
        configuration.nodeHeartbeatMs = 300
        configuration.nodeLeaseTTLMs = 8000
    }

    static var echo: [String: Any] { ["language": "bash", "code": "echo hi"] }

    /// The daemon's store, opened a second time: what another node would see and do.
    static func otherNode(_ daemon: RunningDaemon) throws -> SQLiteStore {
        try SQLiteStore(path: StateLayout(root: daemon.stateDirectory).database)
    }

    @Test func aTenantLeasedToAnotherNodeGetsNoWorkerHereUntilTheLeaseIsFree() async throws {
        try await withLiveDaemon(Self.fastBeats) { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("elsewhere")
            let other = try Self.otherNode(daemon)
            _ = try await other.registerNode(NodeRegistration(id: "node-far", incarnation: "inc_far", advertise: nil,
                                                              leaseTTLMs: 60_000))
            guard case .acquired = try await other.acquireLease(tenantID: tenant.id, nodeID: "node-far", ttlMs: 60_000) else {
                Issue.record("the other node could not take a free lease")
                return
            }

            let refused = try await daemon.exec(token, Self.echo)
            #expect(refused.status == 503 && refused.errorCode == "node_unreachable", "\(refused.errorMessage ?? "")")
            #expect((refused.header("Retry-After").flatMap { Int($0) } ?? 0) > 30)
            // A forwarded call is never forwarded again, nor run here.
            let forwarded = try await daemon.http("POST", "/v1/exec",
                                                  headers: bearer(token) + [("Content-Type", "application/json"),
                                                                            ("Warden-Forwarded-By", "node-near")],
                                                  body: Live.json(Self.echo))
            #expect(forwarded.status == 503 && forwarded.errorCode == "tenant_moved")
            #expect(try await daemon.workerPID(tenant.id) == nil)
            #expect(Live.processes(containing: "warden-worker --tenant \(tenant.id)").isEmpty)

            // Once it is free (other nodes may remember the old holder for a heartbeat), the call runs here.
            try await other.releaseLease(tenantID: tenant.id, nodeID: "node-far")
            var ran = try await daemon.exec(token, Self.echo)
            for _ in 0..<50 where ran.status != 200 {
                try await Task.sleep(for: .milliseconds(100))
                ran = try await daemon.exec(token, Self.echo)
            }
            #expect(ran.status == 200)
            let listed = try await daemon.admin.nodes()
            #expect(ran.header("Warden-Node") == listed.node)
            #expect(try await daemon.admin.leases().map(\.nodeID) == [listed.node])
            #expect(listed.nodes.first { $0.id == listed.node }?.state == .live)
            #expect(!Live.processes(containing: "warden-worker --tenant \(tenant.id)").isEmpty)
            try await other.close()
        }
    }

    @Test func aLeaseIsGivenBackOnceItsWorkerHasStoppedIdle() async throws {
        try await withLiveDaemon({ configuration in
            Self.fastBeats(&configuration)
            configuration.workerIdleSeconds = 1
        }) { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("sleepy")
            // The lease is looked at while a call holds it: an idle second could
            // pass before a loaded machine answers the lookup.
            let busy = Task { try await daemon.exec(token, ["language": "bash", "code": "sleep 3"]).status }
            #expect(await Live.eventually(within: 30) { (try? await daemon.admin.leases().map(\.tenantID)) == [tenant.id] })
            #expect(try await busy.value == 200)
            #expect(await Live.eventually(within: 30) { (try? await daemon.admin.leases().isEmpty) ?? false })
            #expect(try await daemon.workerPID(tenant.id) == nil)
        }
    }

    @Test func anotherProcessTakingThisNodesIDStopsItsWorkersAndItsCalls() async throws {
        try await withLiveDaemon(Self.fastBeats) { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("stolen")
            let first = try await daemon.exec(token, Self.echo)
            #expect(first.status == 200, "\(String(decoding: first.body, as: UTF8.self))")
            let pid = try #require(try await daemon.workerPID(tenant.id))
            let me = try await daemon.admin.nodes().node

            let intruder = try Self.otherNode(daemon)
            #expect(try await intruder.registerNode(NodeRegistration(id: me, incarnation: "inc_intruder", advertise: nil,
                                                                     leaseTTLMs: 3000, takeOver: true)) == .registered)
            #expect(await Live.eventually(within: 20) { !Live.isAlive(pid) })
            let refused = try await daemon.exec(token, Self.echo)
            #expect(refused.status == 503 && refused.errorCode == "node_replaced")
            #expect(Live.processes(containing: "warden-worker --tenant \(tenant.id)").isEmpty)
            try await intruder.close()
        }
    }

    @Test(arguments: [TenantStatus.suspended, .deleted])
    func aTenantSuspendedOrDeletedThroughAnotherNodeLosesItsWorkerHereAtTheNextHeartbeat(_ status: TenantStatus) async throws {
        try await withLiveDaemon(Self.fastBeats) { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("paused")
            let first = try await daemon.exec(token, Self.echo)
            #expect(first.status == 200, "\(String(decoding: first.body, as: UTF8.self))")
            let pid = try #require(try await daemon.workerPID(tenant.id))
            let directory = StateLayout(root: daemon.stateDirectory).tenantDirectory(tenant.id)
            #expect(FileManager.default.fileExists(atPath: directory))

            let other = try Self.otherNode(daemon)
            _ = try await other.setTenantStatus(id: tenant.id, to: status)
            #expect(await Live.eventually(within: 20) { !Live.isAlive(pid) })
            #expect(await Live.eventually(within: 20) { (try? await daemon.admin.leases().isEmpty) ?? false })
            // A deleted tenant's workspace goes from the node that served it.
            #expect(await Live.eventually(within: 20) { FileManager.default.fileExists(atPath: directory) == (status == .suspended) })
            try await other.close()
        }
    }

    @Test func forgetRemovesADepartedNodeAndRefusesTheAnsweringOne() async throws {
        try await withLiveDaemon(Self.fastBeats) { daemon in
            let other = try Self.otherNode(daemon)
            _ = try await other.registerNode(NodeRegistration(id: "node-gone", incarnation: "inc_gone", advertise: nil,
                                                              leaseTTLMs: 60_000))
            try await other.leaveNode(id: "node-gone", incarnation: "inc_gone")
            let this = try await daemon.admin.nodes().node
            #expect(Set(try await daemon.admin.nodes().nodes.map(\.id)) == [this, "node-gone"])

            let forgotten = try await daemon.admin.forgetNode("node-gone")
            #expect(forgotten.id == "node-gone" && forgotten.state == .left)
            #expect(try await daemon.admin.nodes().nodes.map(\.id) == [this])
            await #expect(throws: AdminClientError.self) { try await daemon.admin.forgetNode("node-gone") }
            do {
                _ = try await daemon.admin.forgetNode(this)
                Issue.record("the answering node forgot itself")
            } catch AdminClientError.refused(let status, _, let message) {
                #expect(status == 409 && message.contains("stop it"), "\(message)")
            }
            try await other.close()
        }
    }

    /// A daemon stopped (SIGSTOP) past the moment it would fence its leases,
    /// but not past their TTL, has a late heartbeat to make: nobody could take
    /// the leases meanwhile, so the renewal proves them still its own and the
    /// worker keeps running instead of being fenced.
    @Test func aNodePausedPastItsFenceButInsideTheTTLKeepsItsWorkers() async throws {
        let warden = try #require(Live.builtBinary("warden"), "warden must be built beside the test bundle")
        let directory = try TemporaryDirectory()
        let state = directory.path + "/state"
        // Fence 15 s after a renewal began, the lease expiring at 20 s: a pause of 16.5 s falls between.
        let serve = try ServeProcess(binary: warden, stateDirectory: state, logPath: directory.path + "/serve.log",
                                     arguments: ["--heartbeat-ms", "300", "--lease-ttl-ms", "20000"])
        defer { serve.stop() }
        let port = try #require(await serve.waitForPort(), "warden serve did not start:\n\(serve.log)")
        let admin = AdminClient(stateDirectory: state, timeout: .seconds(60))
        let tenant = try await admin.createTenant(name: "paused", plan: "pro")
        let token = try await admin.issueKey(for: tenant.id).token
        let endpoint = LocalHTTPClient.Endpoint.tcp(host: "127.0.0.1", port: port)
        func echo() async throws -> LocalHTTPClient.Response {
            try await LocalHTTPClient.send("POST", "/v1/exec", to: endpoint, headers: bearer(token),
                                           body: Live.json(Self.echo), timeout: .seconds(60))
        }
        #expect(try await echo().status == 200)
        let worker = try #require(try await admin.workers().first { $0.tenantID == tenant.id }?.pid)

        kill(serve.pid, SIGSTOP)
        try await Task.sleep(for: .milliseconds(16_500))
        kill(serve.pid, SIGCONT)

        let after = try await echo()
        #expect(after.status == 200, "\(after.errorCode ?? "") \(after.errorMessage ?? "")\n\(serve.log)")
        #expect(Live.isAlive(worker), "the worker was fenced:\n\(serve.log)")
        #expect(try await admin.workers().first { $0.tenantID == tenant.id }?.pid == worker)
        #expect(!serve.log.contains("could not renew the lease of a tenant in time"), "\(serve.log)")
    }
}
