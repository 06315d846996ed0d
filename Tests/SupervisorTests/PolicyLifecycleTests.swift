import Foundation
import Store
import Supervisor
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Policy reload on SIGHUP and approvals across a crash, with `warden serve`
/// as a real child process.
@Suite("Policy reload and approvals across restarts", .serialized)
struct PolicyLifecycleTests {
    func serve(_ directory: TemporaryDirectory, policies: PolicyDirectory, log: String) throws -> ServeProcess {
        let warden = try #require(Live.builtBinary("warden"), "warden must be built beside the test bundle")
        return try ServeProcess(binary: warden, stateDirectory: directory.path + "/state",
                                logPath: directory.path + "/\(log).log",
                                environment: ["WARDEN_POLICY_DIRECTORY": policies.path])
    }

    func exec(_ port: Int, _ token: String, _ code: String) async throws -> LocalHTTPClient.Response {
        try await LocalHTTPClient.send("POST", "/v1/exec", to: .tcp(host: "127.0.0.1", port: port), headers: bearer(token),
                                       body: Live.json(["language": "bash", "code": code]), timeout: .seconds(60))
    }

    @Test func sighupReloadsAndABrokenFileKeepsTheRulesInForce() async throws {
        let directory = try TemporaryDirectory()
        let policies = try PolicyDirectory()
        let serve = try serve(directory, policies: policies, log: "serve")
        defer { serve.stop() }
        let port = try #require(await serve.waitForPort(), "warden serve did not start:\n\(serve.log)")
        let admin = AdminClient(stateDirectory: serve.stateDirectory, timeout: .seconds(60))
        let tenant = try await admin.createTenant(name: "hup", plan: "pro")
        let token = try await admin.issueKey(for: tenant.id).token
        #expect(try await exec(port, token, "echo 1").status == 200)

        try policies.write("maintenance.rego", "package warden\n\ndeny contains \"closed for maintenance\"\n")
        kill(serve.pid, SIGHUP)
        let denied = try await Live.eventually(within: 10) { try await exec(port, token, "echo 2").status == 403 }
        #expect(denied, "SIGHUP did not reload the policies:\n\(serve.log)")

        try policies.write("zz.rego", "package warden\nbroken := {\n")
        kill(serve.pid, SIGHUP)
        let refused = try await Live.eventually(within: 10) {
            try await admin.audit(AuditQuery()).contains { $0.event == "policy.reload" && $0.decision == "refused" }
        }
        #expect(refused, "the broken reload was not recorded:\n\(serve.log)")
        #expect(serve.process.isRunning)
        #expect(try await exec(port, token, "echo 3").status == 403, "the last good policies must stay in force")
        #expect(serve.log.contains("zz.rego:3"), "the log must name the broken file and line")
    }

    @Test func anApprovedCallCutOffByACrashIsFailedNotRunAgain() async throws {
        let directory = try TemporaryDirectory()
        let policies = try PolicyDirectory()
        let first = try serve(directory, policies: policies, log: "first")
        defer { first.stop() }
        let port = try #require(await first.waitForPort(), "warden serve did not start:\n\(first.log)")
        let admin = AdminClient(stateDirectory: first.stateDirectory, timeout: .seconds(60))
        try await admin.holdForApproval(["exec"])
        let tenant = try await admin.createTenant(name: "crashy", plan: "pro")
        let token = try await admin.issueKey(for: tenant.id).token

        let held = try await exec(port, token, "echo started >> /workspace/runs; sleep 30")
        let id = try #require(held.json?["approval_id"] as? String, "\(String(decoding: held.body, as: UTF8.self))")
        _ = try await admin.approve(id)
        let running = try await Live.eventually(within: 20) { try await admin.approval(id).status == .running }
        #expect(running)
        try await Task.sleep(for: .milliseconds(500))
        first.kill9()

        let second = try serve(directory, policies: policies, log: "second")
        defer { second.stop() }
        let newPort = try #require(await second.waitForPort(), "warden serve did not restart:\n\(second.log)")
        let after = try await AdminClient(stateDirectory: second.stateDirectory).approval(id)
        #expect(after.status == .failed)
        #expect(after.resultStatus == 503)
        if case .object(let body)? = after.result, case .object(let error)? = body["error"] {
            #expect(error["code"] == .string("interrupted"))
        } else {
            Issue.record("the failed approval has no error result: \(String(describing: after.result))")
        }
        let runs = try await LocalHTTPClient.send("GET", "/v1/files/runs", to: .tcp(host: "127.0.0.1", port: newPort),
                                                  headers: bearer(token), timeout: .seconds(60))
        // The held call ran once and was not started again by the restart.
        #expect(String(decoding: runs.body, as: UTF8.self) == "started\n")
    }
}
