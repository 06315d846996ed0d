import Crypto
import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import Store
@testable import Supervisor
import Testing

/// A webhook receiver on 127.0.0.1 that refuses its first delivery.
final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        var headers: [String: String]
        var body: Data
        var answered: Int
    }

    let deliveries = NIOLockedValueBox<[Delivery]>([])
    let port = NIOLockedValueBox<Int>(0)

    func run() async throws {
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
            let status = self.deliveries.withLockedValue { list -> Int in
                let status = list.isEmpty ? 503 : 200
                list.append(Delivery(headers: headers, body: Data(body.readableBytesView), answered: status))
                return status
            }
            return Response(status: .init(code: status))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in self.port.withLockedValue { $0 = channel.localAddress?.port ?? 0 } })
        try await app.runService()
    }
}

@Suite("Metrics and alerts", .serialized)
struct ObservabilityTests {
    @Test func prometheusMetricsCountCallsWithoutTenantLabels() async throws {
        try await withLiveDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("measured")
            for _ in 0..<2 { #expect(try await daemon.exec(token, ["language": "bash", "code": "true"]).status == 200) }
            _ = try await daemon.admin.setTenantLimit(tenant.id, metric: "exec.calls.day", limit: Limit(2))
            #expect(try await daemon.exec(token, ["language": "bash", "code": "true"]).status == 429)

            let response = try await daemon.http("GET", "/metrics")
            #expect(response.status == 200)
            #expect(response.header("Content-Type")?.hasPrefix("text/plain") == true)
            let text = String(decoding: response.body, as: UTF8.self)
            #expect(text.contains(#"warden_calls_total{tool="exec",outcome="ok"} 2"#), "\(text)")
            #expect(text.contains(#"warden_quota_rejections_total{metric="exec.calls.day"} 1"#))
            #expect(text.contains(#"warden_policy_decisions_total{decision="allow"} 3"#))
            #expect(text.contains("warden_call_duration_seconds_bucket"))
            #expect(text.contains("# TYPE warden_call_duration_seconds histogram"))
            #expect(text.contains("warden_workers_running 1"))
            #expect(!text.contains(tenant.id) && !text.contains("tenant"), "no series may name a tenant")
        }
    }

    @Test func crossingEightyAndAHundredPercentPostsSignedRetriedWebhooks() async throws {
        let receiver = WebhookReceiver()
        let server = Task { try await receiver.run() }
        defer { server.cancel() }
        let port = try #require(await Live.eventually(within: 10) { receiver.port.withLockedValue { $0 } > 0 } ? receiver.port.withLockedValue { $0 } : nil)
        let secret = "s3cret-for-tests"
        try await withLiveDaemon({
            $0.alertWebhookURL = "http://127.0.0.1:\(port)/hook"
            $0.alertWebhookSecret = secret
            $0.alertWebhookRetryMs = 50
        }) { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("alerted")
            _ = try await daemon.admin.setTenantLimit(tenant.id, metric: "exec.calls.day", limit: Limit(5))
            for _ in 0..<5 { #expect(try await daemon.exec(token, ["language": "bash", "code": "true"]).status == 200) }

            let delivered = await Live.eventually(within: 15) {
                receiver.deliveries.withLockedValue { list in list.filter { $0.answered == 200 }.count } == 2
            }
            #expect(delivered)
            let deliveries = receiver.deliveries.withLockedValue { $0 }
            #expect(deliveries.count == 3, "one refused delivery, retried, and the other alert")
            let events = deliveries.compactMap { (try? JSONSerialization.jsonObject(with: $0.body)) as? [String: Any] }
            #expect(events.count == 3)
            #expect(Set(events.compactMap { $0["threshold"] as? Double }) == [0.8, 1.0])
            #expect(events.allSatisfy { $0["tenant_id"] as? String == tenant.id && $0["metric"] as? String == "exec.calls.day" })
            // The retry carries the same event id, and says it is the second attempt.
            #expect(deliveries[0].headers["warden-event-id"] == deliveries[1].headers["warden-event-id"]
                    || deliveries[0].headers["warden-event-id"] == deliveries[2].headers["warden-event-id"])
            #expect(deliveries.contains { $0.headers["warden-delivery-attempt"] == "2" })
            for delivery in deliveries {
                let signature = try #require(delivery.headers["warden-signature"])
                let parts = Dictionary(uniqueKeysWithValues: signature.split(separator: ",").map {
                    let kv = $0.split(separator: "=", maxSplits: 1)
                    return (String(kv[0]), String(kv.count > 1 ? kv[1] : ""))
                })
                var signed = Data(((parts["t"] ?? "") + ".").utf8)
                signed.append(delivery.body)
                let expected = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))
                    .map { String(format: "%02x", $0) }.joined()
                #expect(parts["v1"] == expected, "the signature must verify with the shared secret")
            }
            let audit = try await daemon.admin.audit(AuditQuery(), tenant: tenant.id).filter { $0.event == "quota.alert" }
            #expect(audit.map(\.decision) == ["80%", "100%"])
        }
    }

    @Test func anHTTPSWebhookIsRefusedAtStart() async throws {
        let state = try TemporaryDirectory()
        var configuration = SupervisorConfiguration()
        configuration.stateDirectory = state.path
        configuration.alertWebhookURL = "https://hooks.example/x"
        #expect {
            _ = try Daemon(configuration: configuration, logger: RecordedLogs().logger, handleSignals: false)
        } throws: { error in "\(error)".contains("must be an http:// URL") }
    }
}
