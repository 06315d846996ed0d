import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import NIOConcurrencyHelpers
import Store
@testable import Supervisor
import Testing

/// A clock tests move by hand, to cross period boundaries.
final class TestClock: Sendable {
    private let current: NIOLockedValueBox<Date>
    init(_ start: Date) { current = NIOLockedValueBox(start) }
    var now: Date { current.withLockedValue { $0 } }
    func set(_ date: Date) { current.withLockedValue { $0 = date } }
    var function: @Sendable () -> Date { { self.now } }
}

/// Runs a program on a thread of its own, so the daemon in this process keeps its cooperative threads.
func runOffPool(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try runProcess(executable, arguments) })
        }
    }
}

/// Plans and quotas over real HTTP with real workers: exact counts under
/// concurrency, idempotency, period rollover, reports, and bad plan edits.
@Suite("Plans and quotas", .serialized)
struct QuotaTests {
    @Test func aHundredConcurrentCallsAgainstALimitOfTenRunExactlyTen() async throws {
        try await withLiveDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("racer")
            _ = try await daemon.admin.setTenantLimit(tenant.id, metric: "exec.calls.day", limit: Limit(10))
            let responses = try await withThrowingTaskGroup(of: LocalHTTPClient.Response.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await daemon.exec(token, ["language": "bash", "code": "echo x >> /workspace/runs"]) }
                }
                return try await group.reduce(into: [LocalHTTPClient.Response]()) { $0.append($1) }
            }
            let summary = Self.summary(of: responses)
            let ran = responses.filter { $0.status == 200 }
            #expect(ran.count == 10, "\(summary)")
            let refused = responses.filter { $0.status == 429 }
            #expect(refused.count == 90, "\(summary)")
            let first = try #require(refused.first)
            #expect(first.errorCode == "quota_exceeded")
            let error = try #require(first.json?["error"] as? [String: Any])
            #expect(error["metric"] as? String == "exec.calls.day")
            #expect(error["limit"] as? Int == 10 && error["used"] as? Int == 10)
            #expect(error["resets_at"] as? String != nil)
            #expect(Int(first.header("Retry-After") ?? "") ?? 0 > 0)

            let runs = try await daemon.files("GET", "/v1/files/runs", token: token)
            #expect(String(decoding: runs.body, as: UTF8.self).split(separator: "\n").count == 10)
            let quota = try await daemon.admin.quota(tenant.id)
            let calls = try #require(quota.metrics.first { $0.metric == "exec.calls.day" })
            #expect(calls.used == 10 && calls.reserved == 0 && calls.remaining == 0 && calls.source == "override")
            let ledger = try await daemon.admin.usage(tenant: tenant.id, by: .tool)
            #expect(ledger.rows.first { $0.group == "exec" }?.calls == 10)
        }
    }

    /// How many answers had each status, and the bodies of those neither 200 nor 429.
    static func summary(of responses: [LocalHTTPClient.Response]) -> String {
        let counts = Dictionary(grouping: responses, by: \.status).mapValues(\.count)
        let unexpected = responses.filter { ![200, 429].contains($0.status) }
            .map { "\($0.status): \(String(decoding: $0.body, as: UTF8.self))" }
        return "statuses \(counts.sorted { $0.key < $1.key }); unexpected answers: \(unexpected)"
    }

    @Test func aRetriedRequestIsAnsweredAgainAndCountedOnce() async throws {
        try await withLiveDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("retry")
            func call() async throws -> LocalHTTPClient.Response {
                try await LocalHTTPClient.send("POST", "/v1/exec", to: .tcp(host: "127.0.0.1", port: daemon.port),
                                               headers: bearer(token) + [("Idempotency-Key", "order-42")],
                                               body: Live.json(["language": "bash", "code": "echo $RANDOM >> /workspace/n; wc -l < /workspace/n"]),
                                               timeout: .seconds(60))
            }
            let first = try await call()
            let second = try await call()
            #expect(first.status == 200 && second.status == 200)
            #expect(second.body == first.body, "a replay answers exactly as the first time")
            #expect(second.header("Idempotent-Replayed") == "true")
            #expect(first.json?["stdout"] as? String == "1\n")
            let calls = try await daemon.admin.quota(tenant.id).metrics.first { $0.metric == "exec.calls.day" }
            #expect(calls?.used == 1)
        }
    }

    @Test func dailyLimitsRollOverAtMidnightInThePlansTimeZone() async throws {
        let formatter = ISO8601DateFormatter()
        let clock = TestClock(try #require(formatter.date(from: "2026-11-21T23:59:58Z")))
        try await withLiveDaemon(now: clock.function) { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("night")
            _ = try await daemon.admin.setTenantLimit(tenant.id, metric: "exec.calls.day", limit: Limit(1))
            #expect(try await daemon.exec(token, ["language": "bash", "code": "true"]).status == 200)
            let refused = try await daemon.exec(token, ["language": "bash", "code": "true"])
            #expect(refused.status == 429)
            #expect((refused.json?["error"] as? [String: Any])?["resets_at"] as? String == "2026-11-22T00:00:00Z")
            #expect(refused.header("Retry-After") == "2")

            clock.set(try #require(formatter.date(from: "2026-11-22T00:00:01Z")))
            #expect(try await daemon.exec(token, ["language": "bash", "code": "true"]).status == 200)
            let month = try await daemon.admin.quota(tenant.id).metrics.first { $0.metric == "exec.calls.month" }
            #expect(month?.used == 2, "both days are in November; the refused call is not counted")

            // A plan in another time zone rolls over at its own midnight.
            _ = try await daemon.admin.createPlan(Plan(name: "tokyo", tools: ["exec"], network: false, timeZone: "Asia/Tokyo",
                                                       limits: ["exec.calls.day": Limit(1)]))
            let (east, eastToken) = try await daemon.tenantWithKey("east", plan: "tokyo")
            clock.set(try #require(formatter.date(from: "2026-11-22T14:59:59Z")))  // 23:59:59 in Tokyo
            #expect(try await daemon.exec(eastToken, ["language": "bash", "code": "true"]).status == 200)
            #expect(try await daemon.exec(eastToken, ["language": "bash", "code": "true"]).status == 429)
            clock.set(try #require(formatter.date(from: "2026-11-22T15:00:01Z")))  // 00:00:01 in Tokyo
            #expect(try await daemon.exec(eastToken, ["language": "bash", "code": "true"]).status == 200)
            _ = east
        }
    }

    @Test func planCeilingsAre422NamingTheFieldAndSoftLimitsWarn() async throws {
        try await withLiveDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("small", plan: "free")
            let tooLong = try await daemon.exec(token, ["language": "bash", "code": "true", "timeout_ms": 20_000])
            #expect(tooLong.status == 422 && tooLong.errorCode == "invalid_field")
            #expect(tooLong.errorMessage?.contains("timeout_ms must be between 1 and 10000") == true, "\(tooLong.errorMessage ?? "")")

            _ = try await daemon.admin.setTenantLimit(tenant.id, metric: "exec.calls.day", limit: Limit(1, hard: false))
            #expect(try await daemon.exec(token, ["language": "bash", "code": "true"]).status == 200)
            let over = try await daemon.exec(token, ["language": "bash", "code": "true"])
            #expect(over.status == 200, "a soft limit allows")
            #expect(over.header("Warden-Quota-Warning") == "exec.calls.day; used=2; limit=1")
            let events = try await daemon.admin.audit(AuditQuery(), tenant: tenant.id).map(\.event)
            #expect(events.contains("quota.soft_limit") && events.contains("quota.alert"), "\(events)")
        }
    }

    @Test func twoTenantsUsageNeverMixes() async throws {
        try await withLiveDaemon { daemon in
            let (alice, aliceToken) = try await daemon.tenantWithKey("alice")
            let (bob, bobToken) = try await daemon.tenantWithKey("bob")
            for _ in 0..<3 { #expect(try await daemon.exec(aliceToken, ["language": "bash", "code": "true"]).status == 200) }
            #expect(try await daemon.exec(bobToken, ["language": "bash", "code": "true"]).status == 200)
            #expect(try await daemon.files("PUT", "/v1/files/a.txt", token: bobToken, body: Data("hi".utf8)).status == 201)

            let own = try await daemon.http("GET", "/v1/usage?by=tool", headers: bearer(aliceToken))
            #expect(own.status == 200)
            let quota = try #require(own.json?["quota"] as? [String: Any])
            #expect(quota["tenant_id"] as? String == alice.id)
            let rows = try #require((own.json?["usage"] as? [String: Any])?["rows"] as? [[String: Any]])
            #expect(rows.count == 1 && rows[0]["tenant_id"] as? String == alice.id && rows[0]["calls"] as? Int == 3)

            let all = try await daemon.admin.usage(by: .tool)
            #expect(all.rows.filter { $0.tenantID == alice.id }.map(\.calls) == [3])
            #expect(Set(all.rows.filter { $0.tenantID == bob.id }.map(\.group)) == ["exec", "files.write"])
            #expect(try await daemon.admin.quota(bob.id).metrics.first { $0.metric == "exec.calls.day" }?.used == 1)
        }
    }

    @Test func csvAndJSONReportsParse() async throws {
        let warden = try #require(Live.builtBinary("warden"))
        try await withLiveDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("reported")
            for _ in 0..<2 { #expect(try await daemon.exec(token, ["language": "bash", "code": "true"]).status == 200) }
            let csv = try await runOffPool(warden, ["usage", "--by", "tool", "--format", "csv", "--state-dir", daemon.stateDirectory])
            #expect(csv.status == 0)
            let lines = csv.output.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
            #expect(lines.first?.first == "tenant_id" && lines.first?.count == 10)
            #expect(lines.count == 2 && lines[1][0] == Substring(tenant.id) && lines[1][1] == "exec" && lines[1][2] == "2")

            let json = try await runOffPool(warden, ["usage", "--format", "json", "--state-dir", daemon.stateDirectory])
            let report = try JSONDecoder().decode(UsageReport.self, from: Data(json.output.utf8))
            #expect(report.rows.map(\.calls) == [2])
            let quota = try await runOffPool(warden, ["quota", "show", tenant.name, "--json", "--state-dir", daemon.stateDirectory])
            let decoded = try JSONCoding.decoder.decode(QuotaReport.self, from: Data(quota.output.utf8))
            #expect(decoded.metrics.first { $0.metric == "exec.calls.day" }?.used == 2)
        }
    }

    @Test func badPlanEditsAreRefusedWithClearErrors() async throws {
        try await withDaemon { daemon in
            var plan = try await daemon.admin.plan("free")
            plan.limits["exec.calls.day"] = Limit(-5)
            await #expect { _ = try await daemon.admin.updatePlan(plan) } throws: { error in
                guard case AdminClientError.refused(422, "invalid_field", let message) = error else { return false }
                return message.contains("exec.calls.day") && message.contains("≥ 0")
            }
            plan.limits = ["exec.calls.dya": Limit(5)]
            await #expect { _ = try await daemon.admin.updatePlan(plan) } throws: { error in
                "\(error)".contains("unknown metric 'exec.calls.dya'")
            }
            let (tenant, _) = try await daemon.tenantWithKey("planned", plan: "free")
            await #expect { try await daemon.admin.deletePlan("free") } throws: { error in
                "\(error)".contains("used by 1 tenant")
            }
            await #expect { _ = try await daemon.admin.setPlan(of: tenant.id, to: "platinum") } throws: { error in
                "\(error)".contains("unknown plan 'platinum'")
            }
            #expect(try await daemon.admin.plan("free").limits["exec.calls.day"] == Limit(100), "a refused edit changes nothing")
        }
    }

    @Test func aCallCutOffByKillMinus9IsRecordedOnceAndItsReservationReleased() async throws {
        let warden = try #require(Live.builtBinary("warden"), "warden must be built beside the test bundle")
        let directory = try TemporaryDirectory()
        let state = directory.path + "/state"
        let first = try ServeProcess(binary: warden, stateDirectory: state, logPath: directory.path + "/first.log")
        defer { first.stop() }
        let port = try #require(await first.waitForPort(), "warden serve did not start:\n\(first.log)")
        let admin = AdminClient(stateDirectory: state, timeout: .seconds(60))
        let tenant = try await admin.createTenant(name: "cutoff", plan: "pro")
        let token = try await admin.issueKey(for: tenant.id).token
        let call = Task {
            try? await LocalHTTPClient.send("POST", "/v1/exec", to: .tcp(host: "127.0.0.1", port: port), headers: bearer(token),
                                            body: Live.json(["language": "bash", "code": "sleep 30"]), timeout: .seconds(60))
        }
        let running = try await Live.eventually(within: 20) {
            try await admin.quota(tenant.id).metrics.first { $0.metric == "concurrent.calls" }?.used == 1
        }
        #expect(running)
        first.kill9()
        call.cancel()

        let second = try ServeProcess(binary: warden, stateDirectory: state, logPath: directory.path + "/second.log")
        defer { second.stop() }
        _ = try #require(await second.waitForPort(), "warden serve did not restart:\n\(second.log)")
        let quota = try await AdminClient(stateDirectory: state).quota(tenant.id)
        let calls = try #require(quota.metrics.first { $0.metric == "exec.calls.day" })
        #expect(calls.used == 1 && calls.reserved == 0, "the cut-off call counts once: \(calls)")
        #expect(quota.metrics.first { $0.metric == "concurrent.calls" }?.used == 0)
        let usage = try await AdminClient(stateDirectory: state).usage(tenant: tenant.id, by: .tool)
        #expect(usage.rows.map(\.calls) == [1] && usage.rows.map(\.failed) == [1])
        #expect(second.log.contains("settled as interrupted"))
    }

    @Test func theUsageChartIsAnSVGOfTheTenantsDaysWithItsLimit() async throws {
        let warden = try #require(Live.builtBinary("warden"))
        try await withLiveDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("charted", plan: "free")
            for _ in 0..<3 { #expect(try await daemon.exec(token, ["language": "bash", "code": "true"]).status == 200) }
            let out = daemon.stateDirectory + "/chart.svg"
            let run = try await runOffPool(warden, ["usage", "chart", tenant.name, "--metric", "exec.calls.day", "--days", "7",
                                                    "--out", out, "--state-dir", daemon.stateDirectory])
            #expect(run.status == 0, "\(run.output)")
            let svg = try Data(contentsOf: URL(fileURLWithPath: out))
            let parser = XMLParser(data: svg)
            final class Collector: NSObject, XMLParserDelegate {
                var rects = 0
                var texts: [String] = []
                var inText = false
                func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                            attributes: [String: String] = [:]) {
                    if name == "rect" { rects += 1 }
                    inText = name == "text" || name == "title"
                }
                func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { texts.append(string) } }
            }
            let collector = Collector()
            parser.delegate = collector
            #expect(parser.parse(), "the chart must be well-formed XML")
            #expect(collector.rects == 8, "a background and one bar per day")
            #expect(collector.texts.contains { $0.hasSuffix(": 3") }, "today's bar says 3 calls: \(collector.texts)")
            #expect(collector.texts.contains("limit 100"), "the free plan's daily limit is drawn")
            #expect(String(decoding: svg, as: UTF8.self).contains("exec.calls.day — charted (free)"))

            let bad = try await runOffPool(warden, ["usage", "chart", tenant.name, "--metric", "call.timeout_ms", "--out", out,
                                                    "--state-dir", daemon.stateDirectory])
            #expect(bad.status != 0)
        }
    }

    @Test(.enabled(if: geteuid() == 0, "tenant cgroups need root"))
    func thePlanCapsTheTenantsWholeJail() async throws {
        try await withLiveDaemon { daemon in
            _ = try await daemon.admin.createPlan(Plan(name: "tiny", tools: ["exec"], network: false, limits: [
                "tenant.memory_mb": Limit(96), "tenant.pids": Limit(48), "tenant.cpus": Limit(0.25),
                "call.memory_mb": Limit(512)]))
            let (tenant, token) = try await daemon.tenantWithKey("tiny", plan: "tiny")
            #expect(try await daemon.exec(token, ["language": "bash", "code": "true"]).status == 200)
            let cgroups = Live.tenantCgroups([tenant.id])
            let memory = cgroups.compactMap { dir in
                ["memory.max", "memory.limit_in_bytes"].lazy.compactMap {
                    try? String(contentsOfFile: "\(dir)/\($0)", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                }.first
            }
            let pids = cgroups.compactMap { try? String(contentsOfFile: "\($0)/pids.max", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
            #expect(memory.contains(String(96 << 20)), "tenant memory limits: \(memory) in \(cgroups)")
            #expect(pids.contains("48"), "tenant pids limits: \(pids)")
            // A quarter of a core: cpu.max "25000 100000" on v2, a quota of 25000 µs per 100000 on v1.
            let cpu = cgroups.compactMap { dir in
                (try? String(contentsOfFile: "\(dir)/cpu.max", encoding: .utf8))
                    ?? (try? String(contentsOfFile: "\(dir)/cpu.cfs_quota_us", encoding: .utf8))
            }.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            #expect(cpu.contains("25000 100000") || cpu.contains("25000"), "tenant cpu limits: \(cpu) in \(cgroups)")

            // A call allowed 512 MiB by itself still cannot take more than the tenant's 96.
            let hog = try await daemon.exec(token, ["language": "python", "memory_mb": 512,
                                                    "code": "x = bytearray(300 * 1024 * 1024)\nprint('allocated')"])
            #expect(hog.status == 200 || hog.status == 503, "\(String(decoding: hog.body, as: UTF8.self))")
            #expect(hog.json?["stdout"] as? String != "allocated\n", "the tenant cap must stop it")
        }
    }
}
