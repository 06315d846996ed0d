/// What reserve and settle decide, apart from how a back end reads and
/// writes its counters: both back ends call these inside their transaction.
enum QuotaRules {
    /// Checks a reservation against the tenant's open reservations and, for
    /// each limited charge, what its counter holds (`used + reserved`).
    static func check(_ request: ReservationRequest, openReservations open: Int,
                      taken: (Charge) throws -> Double) rethrows -> ReservationOutcome {
        var warnings: [QuotaWarning] = []
        if let limit = request.concurrentLimit, Double(open + 1) > limit.limit {
            if limit.hard {
                return .exceeded(QuotaExceeded(metric: Metric.concurrentCalls, limit: limit.limit, used: Double(open),
                                               resetsAt: nil))
            }
            warnings.append(QuotaWarning(metric: Metric.concurrentCalls, limit: limit.limit, used: Double(open + 1)))
        }
        for charge in request.charges {
            guard let limit = charge.limit else { continue }
            let taken = try taken(charge)
            // A measured metric (amount 0 now) may start while any of it is left.
            let over = charge.amount > 0 ? taken + charge.amount > limit.limit : taken >= limit.limit
            guard over else { continue }
            if limit.hard {
                return .exceeded(QuotaExceeded(metric: charge.metric, limit: limit.limit, used: taken,
                                               resetsAt: charge.periodEnd))
            }
            warnings.append(QuotaWarning(metric: charge.metric, limit: limit.limit, used: taken + charge.amount))
        }
        return .reserved(warnings: warnings)
    }

    /// The 80 % and 100 % marks a counter passes when `used` is added to `before`.
    static func crossings(tenantID: String, _ charge: Charge, before: Double, used: Double) -> [ThresholdCrossing] {
        guard let limit = charge.limit?.limit, limit > 0, used > 0 else { return [] }
        return [0.8, 1.0].filter { before < $0 * limit && before + used >= $0 * limit }.map {
            ThresholdCrossing(tenantID: tenantID, metric: charge.metric, limit: limit, used: before + used, threshold: $0)
        }
    }
}
