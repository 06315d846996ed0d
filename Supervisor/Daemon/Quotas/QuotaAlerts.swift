import Foundation
import Logging
import Store

/// Crossing 80 % or 100 % of a limit is an event in the audit log.
enum QuotaAlerts {
    static func record(_ crossings: [ThresholdCrossing], audit: AuditWriter, logger: Logger) async {
        for c in crossings {
            let percent = Int(c.threshold * 100)
            let reason = "\(c.metric) reached \(percent) % of its limit (\(CallPipeline.number(c.used)) of \(CallPipeline.number(c.limit)))"
            logger.notice("quota alert", metadata: ["tenant_id": "\(c.tenantID)", "metric": "\(c.metric)", "percent": "\(percent)"])
            try? await audit.append(AuditRecord(time: Date(), event: "quota.alert", tenantID: c.tenantID, tool: nil,
                                                inputDigest: nil, decision: "\(percent)%", reasons: [reason], requestID: nil))
        }
    }
}
