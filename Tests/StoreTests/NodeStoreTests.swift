import Foundation
import Testing
@testable import Store

/// Nodes and tenant leases on both back ends: a lease is taken, renewed,
/// refused while another node holds it, taken over once it expires, and
/// renewed only by heartbeats of the process that registered the node.
@Suite("Store: nodes and tenant leases")
struct NodeStoreTests {
    func register(_ store: any Store, _ id: String, incarnation: String = "inc_1", ttl: Int64 = 60_000,
                  takeOver: Bool = false) async throws -> NodeRegistrationOutcome {
        try await store.registerNode(NodeRegistration(id: id, incarnation: incarnation, advertise: "http://127.0.0.1:1\(id.count)",
                                                      leaseTTLMs: ttl, takeOver: takeOver))
    }

    func beat(_ store: any Store, _ id: String, incarnation: String = "inc_1", ttl: Int64 = 60_000,
              renewing tenants: [String]) async throws -> [RenewedLease] {
        try await store.heartbeat(NodeHeartbeat(nodeID: id, incarnation: incarnation, advertise: "http://127.0.0.1:1\(id.count)",
                                                leaseTTLMs: ttl, workersRunning: 2, callsInFlight: 3, tenantIDs: tenants))
    }

    @Test(arguments: Backend.all)
    func aLeaseIsTakenRenewedRefusedWhileHeldAndReleased(_ backend: Backend) async throws {
        try await withFixture(backend) { fixture in
            let (a, b) = (fixture.store, try await fixture.openAnother())
            let tenant = try await a.createTenant(name: "leased", plan: "free")
            #expect(try await register(a, "node-a") == .registered)
            #expect(try await register(b, "node-b") == .registered)

            guard case .acquired(let first) = try await a.acquireLease(tenantID: tenant.id, nodeID: "node-a", ttlMs: 60_000) else {
                Issue.record("a free lease was not taken")
                return
            }
            #expect(first.nodeID == "node-a" && first.remainingMs > 50_000)

            guard case .held(let holder) = try await b.acquireLease(tenantID: tenant.id, nodeID: "node-b", ttlMs: 60_000) else {
                Issue.record("a held lease was taken by another node")
                return
            }
            #expect(holder.nodeID == "node-a" && holder.advertise == "http://127.0.0.1:16")

            // The holder asking again renews it and keeps its start.
            guard case .acquired(let renewed) = try await a.acquireLease(tenantID: tenant.id, nodeID: "node-a", ttlMs: 90_000) else {
                Issue.record("the holder could not renew its lease")
                return
            }
            #expect(renewed.acquiredAt == first.acquiredAt && renewed.expiresAt > first.expiresAt)

            // Releasing by another node changes nothing; by the holder, frees it.
            try await b.releaseLease(tenantID: tenant.id, nodeID: "node-b")
            #expect(try await a.listLeases().map(\.nodeID) == ["node-a"])
            try await a.releaseLease(tenantID: tenant.id, nodeID: "node-a")
            #expect(try await a.listLeases().isEmpty)
            guard case .acquired = try await b.acquireLease(tenantID: tenant.id, nodeID: "node-b", ttlMs: 60_000) else {
                Issue.record("a released lease was not free")
                return
            }
        }
    }

    @Test(arguments: Backend.all)
    func anExpiredLeaseIsTakenOverAndItsOldHolderCannotRenewIt(_ backend: Backend) async throws {
        try await withFixture(backend) { fixture in
            let (a, b) = (fixture.store, try await fixture.openAnother())
            let tenant = try await a.createTenant(name: "orphan", plan: "free")
            _ = try await register(a, "node-a")
            _ = try await register(b, "node-b")
            _ = try await a.acquireLease(tenantID: tenant.id, nodeID: "node-a", ttlMs: 200)
            try await Task.sleep(for: .milliseconds(500))

            guard case .acquired(let taken) = try await b.acquireLease(tenantID: tenant.id, nodeID: "node-b", ttlMs: 60_000) else {
                Issue.record("an expired lease was not taken over")
                return
            }
            #expect(taken.nodeID == "node-b")
            // The old holder's heartbeat no longer renews it, and asking for it says who has it now.
            #expect(try await beat(a, "node-a", renewing: [tenant.id]).isEmpty)
            guard case .held(let holder) = try await a.acquireLease(tenantID: tenant.id, nodeID: "node-a", ttlMs: 60_000) else {
                Issue.record("the old holder took the lease back")
                return
            }
            #expect(holder.nodeID == "node-b")
        }
    }

    @Test(arguments: Backend.all)
    func aHeartbeatRenewsOnlyTheLeasesItNamesAndReportsTheirTenantsStatus(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let kept = try await store.createTenant(name: "kept", plan: "free")
            let dropped = try await store.createTenant(name: "dropped", plan: "free")
            _ = try await register(store, "node-a")
            // Long enough that the unrenewed lease is still live when counted on a loaded machine.
            _ = try await store.acquireLease(tenantID: kept.id, nodeID: "node-a", ttlMs: 30_000)
            _ = try await store.acquireLease(tenantID: dropped.id, nodeID: "node-a", ttlMs: 30_000)
            _ = try await store.setTenantStatus(id: kept.id, to: .suspended)

            let renewed = try await beat(store, "node-a", ttl: 120_000, renewing: [kept.id])
            #expect(renewed == [RenewedLease(tenantID: kept.id, tenantStatus: .suspended)])
            let leases = Dictionary(uniqueKeysWithValues: try await store.listLeases().map { ($0.tenantID, $0) })
            #expect((leases[kept.id]?.remainingMs ?? 0) > 60_000)
            #expect((leases[dropped.id]?.remainingMs ?? .max) <= 30_000)

            let node = try #require(try await store.listNodes().first)
            #expect(node.id == "node-a" && node.state == .live && node.leases == 2)
            #expect(node.workersRunning == 2 && node.callsInFlight == 3 && node.leaseTTLMs == 120_000)
        }
    }

    @Test(arguments: Backend.all)
    func aNodeIDHeldByALiveProcessIsRefusedUntilTakenOverAndThenTheOldProcessIsShutOut(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let tenant = try await store.createTenant(name: "shared", plan: "free")
            #expect(try await register(store, "node-a", incarnation: "inc_1") == .registered)
            _ = try await store.acquireLease(tenantID: tenant.id, nodeID: "node-a", ttlMs: 60_000)
            guard case .stillLive(let age, let ttl) = try await register(store, "node-a", incarnation: "inc_2") else {
                Issue.record("a second process took a live node's id")
                return
            }
            #expect(age >= 0 && ttl == 60_000)

            #expect(try await register(store, "node-a", incarnation: "inc_2", takeOver: true) == .registered)
            await #expect {
                _ = try await beat(store, "node-a", incarnation: "inc_1", renewing: [tenant.id])
            } throws: { error in
                guard case StoreError.conflict(let message) = error else { return false }
                return message.contains("registered again")
            }
            // The old process leaving does not release what is now the new one's.
            try await store.leaveNode(id: "node-a", incarnation: "inc_1")
            #expect(try await store.listLeases().count == 1)
            #expect(try await store.listNodes().first?.state == .live)

            try await store.leaveNode(id: "node-a", incarnation: "inc_2")
            #expect(try await store.listLeases().isEmpty)
            #expect(try await store.listNodes().first?.state == .left)
        }
    }

    @Test(arguments: Backend.all)
    func aNodeWhoseHeartbeatIsOlderThanItsTTLIsDeadAndItsIDFree(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            _ = try await register(store, "node-a", incarnation: "inc_1", ttl: 200)
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await store.listNodes().first?.state == .dead)
            #expect(try await register(store, "node-a", incarnation: "inc_2", ttl: 200) == .registered)
        }
    }

    @Test(arguments: Backend.all)
    func onlyADeadOrDepartedNodeIsForgottenAndItsProcessIsShutOut(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let tenant = try await store.createTenant(name: "orphaned", plan: "free")
            _ = try await register(store, "node-live")
            _ = try await register(store, "node-left")
            try await store.leaveNode(id: "node-left", incarnation: "inc_1")
            _ = try await register(store, "node-dead", ttl: 200)
            guard case .acquired = try await store.acquireLease(tenantID: tenant.id, nodeID: "node-dead", ttlMs: 200) else {
                Issue.record("a free lease was not taken")
                return
            }
            try await Task.sleep(for: .milliseconds(500))

            await #expect(throws: StoreError.self) { try await store.forgetNode(id: "node-live") }
            await #expect(throws: StoreError.self) { try await store.forgetNode(id: "node-unknown") }
            await #expect(throws: StoreError.self) { try await store.forgetNode(id: "not a node id") }
            #expect(try await store.forgetNode(id: "node-left").state == .left)
            let dead = try await store.forgetNode(id: "node-dead")
            #expect(dead.state == .dead && dead.id == "node-dead")
            #expect(try await store.listNodes().map(\.id) == ["node-live"])
            #expect(try await store.listLeases().isEmpty, "a lease stayed under a forgotten node's name")
            // The forgotten node's process, should it wake up, renews nothing and is told so.
            await #expect(throws: StoreError.self) { _ = try await beat(store, "node-dead", renewing: [tenant.id]) }
            // Its id is free for a new process.
            #expect(try await register(store, "node-dead", incarnation: "inc_2") == .registered)
        }
    }

    @Test(arguments: Backend.all)
    func nodesRacingForOneLeaseLeaveExactlyOneHolder(_ backend: Backend) async throws {
        try await withFixture(backend) { fixture in
            var stores: [any Store] = [fixture.store]
            for _ in 0..<3 { stores.append(try await fixture.openAnother()) }
            let tenant = try await stores[0].createTenant(name: "contested", plan: "free")
            for (index, store) in stores.enumerated() { _ = try await register(store, "node-\(index)") }
            let outcomes = await withTaskGroup(of: (String, LeaseOutcome?).self) { group in
                for attempt in 0..<40 {
                    let node = "node-\(attempt % 4)", store = stores[attempt % 4]
                    group.addTask { (node, try? await store.acquireLease(tenantID: tenant.id, nodeID: node, ttlMs: 60_000)) }
                }
                return await group.reduce(into: [(String, LeaseOutcome?)]()) { $0.append($1) }
            }
            let holders = Set(try await stores[0].listLeases().map(\.nodeID))
            #expect(holders.count == 1)
            for (node, outcome) in outcomes {
                switch outcome {
                case .acquired(let lease)?: #expect(lease.nodeID == node && holders.contains(node))
                case .held(let lease)?: #expect(lease.nodeID != node && holders.contains(lease.nodeID))
                case nil: Issue.record("an acquisition failed")
                }
            }
        }
    }
}
