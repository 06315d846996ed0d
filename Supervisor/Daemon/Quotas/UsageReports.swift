import Foundation
import Store

/// `warden quota show` and `GET /v1/usage`: each metric's limit, use and reset.
public struct QuotaReport: Codable, Sendable {
    public struct Row: Codable, Sendable, Equatable {
        public var metric: String
        public var kind: Metric.Kind
        public var unit: String
        public var limit: Double?
        public var hard: Bool?
        /// `plan` or `override`.
        public var source: String?
        public var used: Double?
        public var reserved: Double?
        public var remaining: Double?
        public var resetsAt: Date?

        enum CodingKeys: String, CodingKey {
            case metric, kind, unit, limit, hard, source, used, reserved, remaining
            case resetsAt = "resets_at"
        }
    }

    public var tenantID: String
    public var plan: String
    public var timeZone: String
    public var at: Date
    public var metrics: [Row]

    enum CodingKeys: String, CodingKey {
        case plan, at, metrics
        case tenantID = "tenant_id"
        case timeZone = "time_zone"
    }
}

/// `warden usage`: ledger figures summed per day, month or tool.
public struct UsageReport: Codable, Sendable {
    public enum Grouping: String, Codable, Sendable, CaseIterable {
        case day, month, tool
    }

    public struct Row: Codable, Sendable, Equatable {
        public var tenantID: String
        /// The day (YYYY-MM-DD), month (YYYY-MM) or tool.
        public var group: String
        public var calls: Int
        public var failed: Int
        public var cpuSeconds: Double
        public var wallSeconds: Double
        public var bytesIn: Int64
        public var bytesOut: Int64
        public var egressBytes: Int64
        public var memoryPeakBytes: Int64

        enum CodingKeys: String, CodingKey {
            case group, calls, failed
            case tenantID = "tenant_id"
            case cpuSeconds = "cpu_seconds"
            case wallSeconds = "wall_seconds"
            case bytesIn = "bytes_in"
            case bytesOut = "bytes_out"
            case egressBytes = "egress_bytes"
            case memoryPeakBytes = "memory_peak_bytes"
        }
    }

    public var by: Grouping
    public var since: Date?
    public var until: Date?
    public var rows: [Row]

    /// Sums ledger records per tenant and group (days and months in UTC).
    static func build(_ records: [LedgerRecord], by: Grouping, since: Date?, until: Date?) -> UsageReport {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        var rows: [String: Row] = [:]
        var order: [String] = []
        for record in records {
            let group: String
            switch by {
            case .tool: group = record.tool
            case .day, .month:
                let c = calendar.dateComponents([.year, .month, .day], from: record.startedAt)
                group = by == .day
                    ? String(format: "%04d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
                    : String(format: "%04d-%02d", c.year ?? 0, c.month ?? 0)
            }
            let key = record.tenantID + "\u{0}" + group
            var row = rows[key] ?? Row(tenantID: record.tenantID, group: group, calls: 0, failed: 0, cpuSeconds: 0,
                                       wallSeconds: 0, bytesIn: 0, bytesOut: 0, egressBytes: 0, memoryPeakBytes: 0)
            if rows[key] == nil { order.append(key) }
            row.calls += 1
            if !(200..<300).contains(record.httpStatus) { row.failed += 1 }
            row.cpuSeconds += Double(record.figures.cpuMs) / 1000
            row.wallSeconds += Double(record.figures.wallMs) / 1000
            row.bytesIn += record.figures.bytesIn
            row.bytesOut += record.figures.bytesOut
            row.egressBytes += record.figures.egressBytes
            row.memoryPeakBytes = max(row.memoryPeakBytes, record.figures.memoryPeakBytes)
            rows[key] = row
        }
        let sorted = order.compactMap { rows[$0] }.sorted { ($0.tenantID, $0.group) < ($1.tenantID, $1.group) }
        return UsageReport(by: by, since: since, until: until, rows: sorted)
    }
}

extension Meter {
    /// Every metric of the catalogue for one tenant: its limit (plan or
    /// override), what is used and held now, what is left, and when it resets.
    func quotaReport(for tenant: Tenant) async throws -> QuotaReport {
        let limits = try await limits(for: tenant)
        let overrides = try await store.tenantLimits(tenantID: tenant.id)
        let at = now()
        let specs = Metric.catalog.values.sorted { $0.name < $1.name }
        let periods = PeriodWindow.all(containing: at, timeZone: limits.plan.timeZone)
        let windows = specs.map { spec in spec.period.flatMap { periods[$0] } }
        let counted = specs.indices.filter { specs[$0].kind != .ceiling }
        let values = try await store.counters(tenantID: tenant.id, counted.map { (specs[$0].name, windows[$0]?.start) })
        var byMetric: [String: CounterValue] = [:]
        for value in values { byMetric[value.metric] = value }

        var rows: [QuotaReport.Row] = []
        for (index, spec) in specs.enumerated() {
            let limit = limits[spec.name]
            var row = QuotaReport.Row(metric: spec.name, kind: spec.kind, unit: spec.unit, limit: limit?.limit,
                                      hard: limit?.hard, source: limit == nil ? nil : (overrides[spec.name] != nil ? "override" : "plan"),
                                      resetsAt: windows[index]?.end)
            if let value = byMetric[spec.name] {
                row.used = value.used
                row.reserved = value.reserved
            }
            if let limit = limit?.limit, let used = row.used {
                row.remaining = max(0, limit - used - (row.reserved ?? 0))
            }
            rows.append(row)
        }
        return QuotaReport(tenantID: tenant.id, plan: tenant.plan, timeZone: limits.plan.timeZone, at: at, metrics: rows)
    }
}
