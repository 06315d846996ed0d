import Foundation
import Store
@testable import Supervisor
import Testing

/// The policy decision before every call, over real HTTP with real workers:
/// deny → 403 with the reasons, approvals → 202 and `warden approvals`, the
/// audit log, and reloads that never leave the daemon without rules.
@Suite("Policy decisions", .serialized)
struct DecisionTests {
    @Test func aDeniedCallIs403WithTheReasonsAuditedAndNeverRuns() async throws {
        let policies = try PolicyDirectory()
        // A business rule of the operator's: no bash before the plan allows it.
        try policies.write("rules.rego", """
            package warden
            deny contains "bash is not offered on the free plan" if {
                input.tenant.plan == "free"
                input.args.language == "bash"
            }
            """)
        try await withLiveDaemon({ $0.policyDirectory = policies.path }) { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("frugal", plan: "free")
            let denied = try await daemon.exec(token, ["language": "bash", "code": "touch /workspace/ran"])
            #expect(denied.status == 403)
            #expect(denied.errorCode == "policy_denied")
            let reasons = (denied.json?["error"] as? [String: Any])?["reasons"] as? [String]
            #expect(reasons == ["bash is not offered on the free plan"])
            // Nothing ran: the tenant has no worker yet.
            #expect(try await daemon.workerPID(tenant.id) == nil)

            let allowed = try await daemon.exec(token, ["language": "python", "code": "print('ok')", "timeout_ms": 5_000])
            #expect(allowed.status == 200, "\(String(decoding: allowed.body, as: UTF8.self))")

            let records = try await daemon.admin.audit(AuditQuery(), tenant: tenant.id)
            #expect(records.map(\.decision) == ["deny", "allow"])
            let deny = try #require(records.first)
            #expect(deny.event == "decision" && deny.tool == "exec" && deny.tenantID == tenant.id)
            #expect(deny.requestID == denied.header("X-Request-Id"))
            #expect(deny.reasons == reasons)
            #expect(deny.inputDigest?.count == 64)
            #expect(records[1].requestID == allowed.header("X-Request-Id"))
            // The digest follows the input: a different call, a different digest.
            #expect(records[0].inputDigest != records[1].inputDigest)
        }
    }

    @Test func aToolOutsideThePlanIsDeniedBeforeAnyWorkerStarts() async throws {
        try await withLiveDaemon { daemon in
            try await daemon.admin.allowOnly(["files.list"])
            let (tenant, token) = try await daemon.tenantWithKey("narrow")
            let exec = try await daemon.exec(token, ["language": "python", "code": "print(1)"])
            #expect(exec.status == 403 && exec.errorCode == "policy_denied")
            #expect(exec.errorMessage == "tool exec is not allowed on plan pro")
            let write = try await daemon.files("PUT", "/v1/files/a.txt", token: token, body: Data("x".utf8))
            #expect(write.status == 403, "\(String(decoding: write.body, as: UTF8.self))")
            #expect(try await daemon.workerPID(tenant.id) == nil, "a denied call must not start the worker")
            let list = try await daemon.files("GET", "/v1/files", token: token)
            #expect(list.status == 200)
        }
    }

    @Test func aHeldCallRunsOnceAfterApprovalAndTheTenantGetsItsResult() async throws {
        try await withLiveDaemon { daemon in
            try await daemon.admin.holdForApproval(["exec", "files.delete"])
            let (tenant, token) = try await daemon.tenantWithKey("careful")
            let (_, otherToken) = try await daemon.tenantWithKey("nosy")
            let held = try await daemon.exec(token, ["language": "bash", "code": "echo run >> /workspace/count; cat /workspace/count"])
            #expect(held.status == 202, "\(String(decoding: held.body, as: UTF8.self))")
            let id = try #require(held.json?["approval_id"] as? String)
            #expect(held.header("Location") == "/v1/approvals/\(id)")
            #expect(held.json?["status"] as? String == "pending")
            #expect(held.json?["reasons"] as? [String] == ["exec calls need an operator's approval on plan pro"])
            #expect(try await daemon.workerPID(tenant.id) == nil, "nothing runs before the decision")

            // Only the tenant itself sees it.
            #expect(try await daemon.http("GET", "/v1/approvals/\(id)", headers: bearer(otherToken)).status == 404)
            let pending = try await daemon.http("GET", "/v1/approvals/\(id)", headers: bearer(token))
            #expect(pending.json?["status"] as? String == "pending")
            #expect(try await daemon.admin.approvals(status: .pending).map(\.id) == [id])

            let approved = try await daemon.admin.approve(id, note: "fine")
            #expect(approved.status == .approved && approved.note == "fine")
            #expect(approved.decidedBy == "uid \(geteuid())")
            let done = try await daemon.http("GET", "/v1/approvals/\(id)?wait=30", headers: bearer(token))
            #expect(done.json?["status"] as? String == "completed", "\(String(decoding: done.body, as: UTF8.self))")
            #expect(done.json?["result_status"] as? Int == 200)
            let result = try #require(done.json?["result"] as? [String: Any])
            #expect(result["stdout"] as? String == "run\n")
            #expect(result["request_id"] as? String == held.header("X-Request-Id"))

            // A second decision is refused; the call does not run again.
            await #expect(throws: AdminClientError.self) { _ = try await daemon.admin.approve(id, note: nil) }
            await #expect(throws: AdminClientError.self) { _ = try await daemon.admin.deny(id, note: nil) }
            try await Task.sleep(for: .milliseconds(300))
            let count = try await daemon.files("GET", "/v1/files/count", token: token)
            #expect(String(decoding: count.body, as: UTF8.self) == "run\n")

            let events = try await daemon.admin.audit(AuditQuery(), tenant: tenant.id).map { "\($0.event):\($0.decision)" }
            #expect(events.contains("decision:approval_required") && events.contains("approval.approved:approved"), "\(events)")
        }
    }

    @Test func aDeniedApprovalNeverRunsAndSaysWhy() async throws {
        try await withLiveDaemon { daemon in
            try await daemon.admin.holdForApproval(["files.delete"])
            let (_, token) = try await daemon.tenantWithKey("keeper")
            #expect(try await daemon.files("PUT", "/v1/files/precious.txt", token: token, body: Data("gold".utf8)).status == 201)
            let held = try await daemon.files("DELETE", "/v1/files/precious.txt", token: token)
            #expect(held.status == 202, "\(String(decoding: held.body, as: UTF8.self))")
            let id = try #require(held.json?["approval_id"] as? String)
            let denied = try await daemon.admin.deny(id, note: "keep it")
            #expect(denied.status == .denied && denied.note == "keep it")
            let view = try await daemon.http("GET", "/v1/approvals/\(id)?wait=5", headers: bearer(token))
            #expect(view.json?["status"] as? String == "denied")
            #expect(view.json?["note"] as? String == "keep it")
            #expect(view.json?["result"] == nil)
            let file = try await daemon.files("GET", "/v1/files/precious.txt", token: token)
            #expect(file.status == 200 && String(decoding: file.body, as: UTF8.self) == "gold")

            // An approved delete does remove it.
            let again = try await daemon.files("DELETE", "/v1/files/precious.txt", token: token)
            let second = try #require(again.json?["approval_id"] as? String)
            _ = try await daemon.admin.approve(second, note: nil)
            let outcome = try await daemon.http("GET", "/v1/approvals/\(second)?wait=30", headers: bearer(token))
            #expect(outcome.json?["status"] as? String == "completed", "\(String(decoding: outcome.body, as: UTF8.self))")
            #expect(try await daemon.files("GET", "/v1/files/precious.txt", token: token).status == 404)
        }
    }

    @Test func aHeldCallExpiresWithoutADecision() async throws {
        try await withLiveDaemon({ $0.approvalTTLSeconds = 1 }) { daemon in
            try await daemon.admin.holdForApproval(["exec"])
            let (tenant, token) = try await daemon.tenantWithKey("slow")
            let held = try await daemon.exec(token, ["language": "bash", "code": "echo never"])
            let id = try #require(held.json?["approval_id"] as? String)
            try await Task.sleep(for: .milliseconds(1300))
            let view = try await daemon.http("GET", "/v1/approvals/\(id)", headers: bearer(token))
            #expect(view.json?["status"] as? String == "expired")
            await #expect(throws: AdminClientError.self) { _ = try await daemon.admin.approve(id, note: nil) }
            #expect(try await daemon.workerPID(tenant.id) == nil)
            let events = try await daemon.admin.audit(AuditQuery(), tenant: tenant.id).map(\.event)
            #expect(events.contains("approval.expired"))
        }
    }

    @Test func aBrokenPolicyIsRefusedWithItsLocationAndTheOldOneStays() async throws {
        let policies = try PolicyDirectory()
        try await withLiveDaemon({ $0.policyDirectory = policies.path }) { daemon in
            let (_, token) = try await daemon.tenantWithKey("steady")
            let before = try await daemon.admin.policy()
            try policies.write("broken.rego", "package warden\n\ndeny contains msg if {\n  msg := \n}\n")
            do {
                _ = try await daemon.admin.reloadPolicy()
                Issue.record("a broken policy was accepted")
            } catch AdminClientError.refused(let status, let code, let message) {
                #expect(status == 422 && code == "policy_invalid")
                #expect(message.contains("broken.rego:5"), "\(message)")
            }
            #expect(try await daemon.admin.policy() == before)
            #expect(try await daemon.exec(token, ["language": "bash", "code": "echo still"]).status == 200)

            // A good change takes effect without a restart.
            try policies.remove("broken.rego")
            try policies.write("maintenance.rego", "package warden\n\ndeny contains \"closed for maintenance\"\n")
            let after = try await daemon.admin.reloadPolicy()
            #expect(after.digest != before.digest)
            let denied = try await daemon.exec(token, ["language": "bash", "code": "echo no"])
            #expect(denied.status == 403 && denied.errorMessage == "closed for maintenance")

            let reloads = try await daemon.admin.audit(AuditQuery()).filter { $0.event == "policy.reload" }
            #expect(reloads.map(\.decision) == ["refused", "ok"])
            #expect(reloads.first?.reasons.first?.contains("broken.rego:5") == true)
        }
    }

    @Test func callsInFlightSurviveReloads() async throws {
        let policies = try PolicyDirectory()
        try await withLiveDaemon({ $0.policyDirectory = policies.path }) { daemon in
            let (_, token) = try await daemon.tenantWithKey("busy")
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                // Below the worker's 16 concurrent calls, so every one must succeed.
                for i in 0..<12 {
                    group.addTask {
                        try await daemon.exec(token, ["language": "bash", "code": "sleep 0.2; echo \(i)"]).status
                    }
                }
                group.addTask {
                    for _ in 0..<10 { _ = try await daemon.admin.reloadPolicy() }
                    return 200
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
        }
    }

    @Test func aPolicyThatExplodesIsCutOffAndTheCallDenied() async throws {
        let policies = try PolicyDirectory()
        // 25 million pairs: far past the step budget.
        try policies.write("decision.rego", """
            package warden
            decision := {"allow": count([1 | some x in numbers.range(1, 5000); some y in numbers.range(1, 5000)]) > 0, "deny": [], "require_approval": false}
            """)
        try await withLiveDaemon({ $0.policyDirectory = policies.path; $0.policyStepLimit = 100_000 }) { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("loop")
            let started = ContinuousClock.now
            let response = try await daemon.exec(token, ["language": "bash", "code": "echo no"])
            #expect(response.status == 403 && response.errorCode == "policy_error", "\(String(decoding: response.body, as: UTF8.self))")
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(try await daemon.workerPID(tenant.id) == nil)
            let record = try #require(try await daemon.admin.audit(AuditQuery(), tenant: tenant.id).last)
            #expect(record.decision == "error")
        }
    }

    @Test func theDaemonRefusesToStartOnBrokenPolicies() async throws {
        let policies = try PolicyDirectory()
        try policies.write("broken.rego", "package warden\nx := {\n")
        let state = try TemporaryDirectory()
        var configuration = SupervisorConfiguration()
        configuration.stateDirectory = state.path
        configuration.policyDirectory = policies.path
        #expect {
            _ = try Daemon(configuration: configuration, logger: RecordedLogs().logger, handleSignals: false)
        } throws: { error in
            "\(error)".contains("broken.rego:3")
        }
    }

    @Test func rulesOnUsageSeeTheTenantsCounters() async throws {
        let policies = try PolicyDirectory()
        try policies.write("rules.rego", """
            package warden
            # A business rule on the counters the meter keeps.
            deny contains "two exec calls a day is the trial" if {
                input.tenant.plan == "free"
                input.usage["exec.calls.day"] >= 2
            }
            """)
        try await withLiveDaemon({ $0.policyDirectory = policies.path }) { daemon in
            let (_, token) = try await daemon.tenantWithKey("trial", plan: "free")
            for _ in 0..<2 { #expect(try await daemon.exec(token, ["language": "bash", "code": "true"]).status == 200) }
            let third = try await daemon.exec(token, ["language": "bash", "code": "true"])
            #expect(third.status == 403 && third.errorMessage == "two exec calls a day is the trial")
        }
        #expect(PolicyEngine.mentionsUsage("# usage in a comment\nx := 1") == false)
        #expect(PolicyEngine.mentionsUsage("x := input.usage.y  # inline"))
    }
}
