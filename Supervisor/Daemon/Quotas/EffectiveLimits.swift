import Foundation
import Store

/// A tenant's plan with its own overrides applied: the limits every call of
/// the tenant is held to.
struct EffectiveLimits: Sendable {
    var plan: Plan
    var limits: [String: Limit]

    init(plan: Plan, overrides: [String: Limit]) {
        self.plan = plan
        limits = plan.limits.merging(overrides) { _, override in override }
    }

    subscript(metric: String) -> Limit? { limits[metric] }

    /// A per-call ceiling as an integer, or nil when the plan sets none.
    func ceiling(_ metric: String) -> Int? {
        limits[metric].map { Int(min($0.limit, Double(Int.max / 2))) }
    }
}
