import Foundation
import Testing
@testable import Store

@Suite("Store: audit log and approvals")
struct AuditApprovalStoreTests {
    func record(_ tenant: String?, _ decision: String, at seconds: Double) -> AuditRecord {
        AuditRecord(time: Date(timeIntervalSince1970: seconds), event: "decision", tenantID: tenant, tool: "exec",
                    inputDigest: "abc", decision: decision, reasons: decision == "deny" ? ["no, because"] : [],
                    requestID: "r-\(seconds)")
    }

    @Test(arguments: Backend.all)
    func auditRecordsGetIncreasingIDsAndFilter(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let stored = try await store.appendAudit([record("t_a", "allow", at: 100), record("t_b", "deny", at: 200),
                                                      record("t_a", "deny", at: 300)])
            #expect(stored.map(\.id) == [1, 2, 3])

            let all = try await store.auditRecords(AuditQuery())
            #expect(all == stored)
            #expect(all[1].reasons == ["no, because"])
            #expect(try await store.auditRecords(AuditQuery(tenantID: "t_a")).map(\.id) == [1, 3])
            #expect(try await store.auditRecords(AuditQuery(since: Date(timeIntervalSince1970: 150))).map(\.id) == [2, 3])
            #expect(try await store.auditRecords(AuditQuery(until: Date(timeIntervalSince1970: 200))).map(\.id) == [1])
            #expect(try await store.auditRecords(AuditQuery(afterID: 2)).map(\.id) == [3])
            // The newest ones, oldest first: what `audit tail` prints.
            #expect(try await store.auditRecords(AuditQuery(limit: 2)).map(\.id) == [2, 3])
        }
    }

    @Test(arguments: Backend.all)
    func auditRecordsSurviveReopening(_ backend: Backend) async throws {
        try await withFixture(backend) { fixture in
            try await fixture.store.appendAudit([record(nil, "ok", at: 1)])
            try await fixture.store.close()
            #expect(try await fixture.openAnother().auditRecords(AuditQuery()).count == 1)
        }
    }

    func makeApproval(_ store: any Store) async throws -> Approval {
        let tenant = try await store.createTenant(name: "acme-\(RandomID.string(length: 4))", plan: "pro")
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let approval = Approval(id: Approval.newID(), tenantID: tenant.id, tool: "files.delete", status: .pending,
                                requestID: "req-1", reasons: ["files.delete needs a person"],
                                call: Data(#"{"path":"a.txt"}"#.utf8), createdAt: now,
                                expiresAt: now.addingTimeInterval(3600))
        try await store.createApproval(approval)
        return approval
    }

    @Test(arguments: Backend.all)
    func approvalsMoveOnlyFromTheStatesAllowed(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let approval = try await makeApproval(store)
            #expect(try await store.approval(id: approval.id) == approval)

            let approved = try await store.transitionApproval(
                id: approval.id, ApprovalTransition(from: [.pending], to: .approved, decidedBy: "uid 0", decisionNote: "fine"))
            #expect(approved.status == .approved && approved.decidedBy == "uid 0" && approved.decisionNote == "fine")
            #expect(approved.decidedAt != nil)

            // A second decision loses: the first one stands.
            await #expect(throws: StoreError.conflict("approval \(approval.id) is approved")) {
                _ = try await store.transitionApproval(id: approval.id, ApprovalTransition(from: [.pending], to: .denied))
            }
            let done = try await store.transitionApproval(
                id: approval.id, ApprovalTransition(from: [.approved], to: .completed, resultStatus: 200,
                                                    result: Data(#"{"ok":true}"#.utf8)))
            #expect(done.resultStatus == 200 && done.result == Data(#"{"ok":true}"#.utf8))
            #expect(done.decidedBy == "uid 0", "completing keeps who decided")
            #expect(try await store.approval(id: approval.id) == done)
            await #expect(throws: StoreError.notFound("no approval with id ap_missing")) {
                _ = try await store.transitionApproval(id: "ap_missing", ApprovalTransition(from: [.pending], to: .denied))
            }
        }
    }

    @Test(arguments: Backend.all)
    func concurrentDecisionsLetExactlyOneWin(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let approval = try await makeApproval(store)
            let wins = await withTaskGroup(of: Bool.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        let transition = ApprovalTransition(from: [.pending], to: i % 2 == 0 ? .approved : .denied)
                        return (try? await store.transitionApproval(id: approval.id, transition)) != nil
                    }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
        }
    }

    @Test(arguments: Backend.all)
    func listingFiltersByTenantAndStatus(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let a = try await makeApproval(store)
            let b = try await makeApproval(store)
            _ = try await store.transitionApproval(id: b.id, ApprovalTransition(from: [.pending], to: .denied))
            #expect(Set(try await store.listApprovals(tenantID: nil, status: nil, limit: 10).map(\.id)) == [a.id, b.id])
            #expect(try await store.listApprovals(tenantID: nil, status: .pending, limit: 10).map(\.id) == [a.id])
            #expect(try await store.listApprovals(tenantID: b.tenantID, status: nil, limit: 10).map(\.id) == [b.id])
        }
    }
}
