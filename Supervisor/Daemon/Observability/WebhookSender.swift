import Crypto
import Foundation
import Logging

/// POSTs alert events as JSON to the operator's webhook, signed and retried.
///
/// `Warden-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
/// with the shared secret, so a receiver can check origin and freshness; the
/// event id stays the same across retries so a receiver can drop repeats.
struct WebhookSender: Sendable {
    let host: String
    let port: Int
    let path: String
    /// The signing secret's bytes (a key is made per signature: SymmetricKey is not Sendable).
    let secret: Data?
    let attempts: Int
    let firstDelay: Duration
    let metrics: ServiceMetrics
    let logger: Logger

    /// nil when no webhook is configured.
    init?(configuration: SupervisorConfiguration, metrics: ServiceMetrics, logger: Logger) throws {
        guard let raw = configuration.alertWebhookURL else { return nil }
        guard let url = URLComponents(string: raw), url.scheme == "http", let host = url.host, !host.isEmpty else {
            throw ConfigurationError("alerts.webhook_url '\(raw)' must be an http:// URL (TLS endpoints: put a local relay in front)")
        }
        self.host = host
        port = url.port ?? 80
        path = (url.percentEncodedPath.isEmpty ? "/" : url.percentEncodedPath) + (url.percentEncodedQuery.map { "?" + $0 } ?? "")
        secret = configuration.alertWebhookSecret.map { Data($0.utf8) }
        attempts = configuration.alertWebhookAttempts
        firstDelay = .milliseconds(configuration.alertWebhookRetryMs)
        self.metrics = metrics
        self.logger = logger
    }

    /// Delivers in the background: an alert never slows the call that caused it.
    func send(_ event: QuotaAlertEvent) {
        Task { await deliver(event) }
    }

    func deliver(_ event: QuotaAlertEvent) async {
        guard let body = try? JSONCoding.encoder.encode(event) else { return }
        var delay = firstDelay
        for attempt in 1...max(1, attempts) {
            var headers = [("Content-Type", "application/json"), ("User-Agent", "warden/\(WardenVersion.current)"),
                           ("Warden-Event-Id", event.id), ("Warden-Delivery-Attempt", String(attempt))]
            if let secret { headers.append(("Warden-Signature", Self.signature(body, secret: secret, at: Date()))) }
            do {
                let response = try await LocalHTTPClient.send("POST", path, to: .tcp(host: host, port: port),
                                                              headers: headers, body: body, timeout: .seconds(10))
                if (200..<300).contains(response.status) {
                    metrics.webhook(delivered: true)
                    return
                }
                logger.warning("webhook refused the alert", metadata: ["status": "\(response.status)", "attempt": "\(attempt)"])
            } catch {
                logger.warning("webhook unreachable", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
            }
            if attempt < attempts {
                try? await Task.sleep(for: delay)
                delay *= 2
            }
        }
        metrics.webhook(delivered: false)
        logger.error("alert not delivered to the webhook", metadata: ["event_id": "\(event.id)", "attempts": "\(attempts)"])
    }

    static func signature(_ body: Data, secret: Data, at: Date) -> String {
        let timestamp = String(Int(at.timeIntervalSince1970))
        var signed = Data((timestamp + ".").utf8)
        signed.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: secret))
        return "t=\(timestamp),v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }
}
