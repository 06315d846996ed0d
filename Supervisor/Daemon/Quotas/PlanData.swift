import Foundation
import Policy
import Store

/// Plans as policies see them in `data.plans`: tools, network, approval tools,
/// the per-call ceilings under `limits` (as the request fields are named), and
/// every limit under `quotas`.
enum PlanData {
    static let ceilingFields = [Metric.callTimeoutMs: "timeout_ms", Metric.callCpuMs: "cpu_ms",
                                Metric.callMemoryMB: "memory_mb", Metric.callOutputBytes: "output_bytes"]

    static func value(_ plans: [Plan]) -> Value {
        var out: [String: Value] = [:]
        for plan in plans {
            var ceilings: [String: Value] = [:]
            var quotas: [String: Value] = [:]
            for (metric, limit) in plan.limits {
                if let field = ceilingFields[metric] { ceilings[field] = Value(limit.limit) }
                quotas[metric] = .object(RegoObject(["limit": Value(limit.limit), "hard": .bool(limit.hard)]))
            }
            out[plan.name] = .object(RegoObject([
                "tools": .set(RegoSet(plan.tools.map(Value.string))),
                "network": .bool(plan.network),
                "approval_tools": .set(RegoSet(plan.approvalTools.map(Value.string))),
                "time_zone": .string(plan.timeZone),
                "limits": .object(RegoObject(ceilings)),
                "quotas": .object(RegoObject(quotas)),
            ]))
        }
        return .object(RegoObject(out))
    }
}
