import Foundation
import Logging
import Store

/// Crossing 80 % or 100 % of a limit: an event in the audit log and, when
/// configured, a signed webhook.
struct QuotaAlerts: Sendable {
    let audit: AuditWriter
    let webhook: WebhookSender?
    let metrics: ServiceMetrics
    let logger: Logger

    func record(_ crossings: [ThresholdCrossing]) async {
        for c in crossings {
            let percent = Int(c.threshold * 100)
            let reason = "\(c.metric) reached \(percent) % of its limit (\(CallPipeline.number(c.used)) of \(CallPipeline.number(c.limit)))"
            logger.notice("quota alert", metadata: ["tenant_id": "\(c.tenantID)", "metric": "\(c.metric)", "percent": "\(percent)"])
            metrics.quotaAlert(threshold: c.threshold)
            try? await audit.append(AuditRecord(time: Date(), event: "quota.alert", tenantID: c.tenantID, tool: nil,
                                                inputDigest: nil, decision: "\(percent)%", reasons: [reason], requestID: nil))
            webhook?.send(QuotaAlertEvent(crossing: c, at: Date()))
        }
    }
}

/// The webhook's JSON body.
struct QuotaAlertEvent: Codable, Sendable {
    var event = "quota.alert"
    var id: String
    var tenantID: String
    var metric: String
    var limit: Double
    var used: Double
    var threshold: Double
    var at: Date

    init(crossing: ThresholdCrossing, at: Date) {
        id = "evt_" + RandomID.string(length: 16)
        tenantID = crossing.tenantID
        metric = crossing.metric
        limit = crossing.limit
        used = crossing.used
        threshold = crossing.threshold
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case event, id, metric, limit, used, threshold, at
        case tenantID = "tenant_id"
    }
}
