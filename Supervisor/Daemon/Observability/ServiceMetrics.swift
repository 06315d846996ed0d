import CoreMetrics
import Foundation
import Prometheus

/// The daemon's Prometheus metrics, through swift-metrics with a registry of
/// its own (several daemons may share a process in tests, and a global
/// bootstrap happens only once). Base units, `_total` counters, histograms for
/// latency; no tenant label: per-tenant figures come from the usage API.
final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        self.factory = factory
    }

    /// A call's end: its tool and outcome (`ok`, or the error code), and how long it took.
    func callFinished(tool: String, outcome: String, duration: Duration) {
        CoreMetrics.Counter(label: "warden_calls_total", dimensions: [("tool", tool), ("outcome", outcome)],
                            factory: factory).increment()
        CoreMetrics.Timer(label: "warden_call_duration_seconds", dimensions: [("tool", tool)], factory: factory)
            .recordNanoseconds(Self.nanoseconds(duration))
    }

    func decision(_ outcome: String, duration: Duration) {
        CoreMetrics.Counter(label: "warden_policy_decisions_total", dimensions: [("decision", outcome)],
                            factory: factory).increment()
        CoreMetrics.Timer(label: "warden_policy_decision_duration_seconds", dimensions: [], factory: factory)
            .recordNanoseconds(Self.nanoseconds(duration))
    }

    func quotaRefused(metric: String) {
        CoreMetrics.Counter(label: "warden_quota_rejections_total", dimensions: [("metric", metric)],
                            factory: factory).increment()
    }

    /// What settled calls used, summed over every tenant.
    func used(cpuSeconds: Double, wallSeconds: Double, egressBytes: Int64) {
        CoreMetrics.FloatingPointCounter(label: "warden_usage_cpu_seconds_total", dimensions: [], factory: factory)
            .increment(by: cpuSeconds)
        CoreMetrics.FloatingPointCounter(label: "warden_usage_wall_seconds_total", dimensions: [], factory: factory)
            .increment(by: wallSeconds)
        CoreMetrics.Counter(label: "warden_usage_egress_bytes_total", dimensions: [], factory: factory)
            .increment(by: egressBytes)
    }

    /// An egress connection to an origin: `attempted`, then `connected` or `failed`.
    func egressConnect(result: String) {
        CoreMetrics.Counter(label: "warden_egress_connects_total", dimensions: [("result", result)], factory: factory).increment()
    }

    /// An egress connection the proxy refused, by error code (`policy_denied`, `quota_exceeded`, …).
    func egressRefused(code: String) {
        CoreMetrics.Counter(label: "warden_egress_refusals_total", dimensions: [("code", code)], factory: factory).increment()
    }

    func quotaAlert(threshold: Double) {
        CoreMetrics.Counter(label: "warden_quota_alerts_total", dimensions: [("threshold", String(Int(threshold * 100)))],
                            factory: factory).increment()
    }

    func webhook(delivered: Bool) {
        CoreMetrics.Counter(label: "warden_webhook_deliveries_total", dimensions: [("result", delivered ? "delivered" : "failed")],
                            factory: factory).increment()
    }

    /// Levels read at scrape time.
    func workers(running: Int, degraded: Int) {
        CoreMetrics.Gauge(label: "warden_workers_running", dimensions: [], factory: factory).record(running)
        CoreMetrics.Gauge(label: "warden_workers_degraded", dimensions: [], factory: factory).record(degraded)
    }

    func exposition() -> [UInt8] { registry.emitToBuffer() }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
