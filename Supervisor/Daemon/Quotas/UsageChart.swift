import Foundation
import Store

/// An SVG chart of one tenant's metric over the last days: a bar per day, the
/// running total of the month for monthly metrics, and the limit as a line,
/// so a glance says how close the tenant runs to its plan.
public struct UsageChart: Sendable {
    public var title: String
    public var subtitle: String
    public var unit: String
    /// One value per day, oldest first, with the day's label (MM-DD).
    public var days: [(label: String, value: Double, monthToDate: Double)]
    public var limit: Double?
    /// Monthly metrics compare the running month total with the limit.
    public var monthly: Bool

    /// The series of `metric` from ledger records, over `dayCount` UTC days ending with `today`.
    public init(metric: String, tenant: Tenant, limit: Limit?, records: [LedgerRecord], dayCount: Int, today: Date) throws {
        guard let spec = Metric.catalog[metric], spec.kind == .counter, let period = spec.period else {
            let counters = Metric.catalog.values.filter { $0.kind == .counter }.map(\.name).sorted().joined(separator: ", ")
            throw StoreError.invalid("a chart shows a counter; choose one of \(counters)")
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let lastDay = calendar.startOfDay(for: today)
        let starts = (0..<dayCount).reversed().compactMap { calendar.date(byAdding: .day, value: -$0, to: lastDay) }
        var perDay = [Date: Double]()
        for record in records where Self.counts(record, toward: metric) {
            perDay[calendar.startOfDay(for: record.startedAt), default: 0] += Self.amount(record, metric: metric)
        }
        var running = 0.0
        var month = -1
        days = starts.map { start in
            let c = calendar.dateComponents([.month, .day], from: start)
            if c.month != month { running = 0; month = c.month ?? -1 }
            let value = perDay[start] ?? 0
            running += value
            return (String(format: "%02d-%02d", c.month ?? 0, c.day ?? 0), value, running)
        }
        title = "\(metric) — \(tenant.name) (\(tenant.plan))"
        subtitle = "last \(dayCount) days, UTC; " + (period == .day ? "bars: each day" : "bars: each day, line: month to date")
        unit = spec.unit
        self.limit = limit?.limit
        monthly = period == .month
    }

    /// Calls that never reached a tool are not counted, in the chart as in the counters.
    static func counts(_ record: LedgerRecord, toward metric: String) -> Bool {
        if Meter.neverStarted.contains(record.status) { return false }
        let family = Metric.family(ofTool: record.tool)
        if metric.contains(".calls.") { return metric.hasPrefix(family + ".") }
        if metric == Metric.browserSessions { return family == "browser" }
        return true
    }

    static func amount(_ record: LedgerRecord, metric: String) -> Double {
        switch metric {
        case Metric.cpuSeconds: return Double(record.figures.cpuMs) / 1000
        case Metric.wallSeconds: return Double(record.figures.wallMs) / 1000
        case Metric.egressBytes: return Double(record.figures.egressBytes)
        default: return 1
        }
    }

    /// The SVG document.
    public func svg() -> String {
        let width = 960.0, height = 440.0
        let left = 72.0, right = 24.0, top = 70.0, bottom = 56.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let peak = max(days.map { monthly ? $0.monthToDate : $0.value }.max() ?? 0, limit ?? 0, 1)
        let ticks = Self.ticks(upTo: peak * 1.08)
        let scaleTop = ticks.last ?? peak
        func y(_ value: Double) -> Double { top + plotHeight * (1 - value / scaleTop) }
        let slot = plotWidth / Double(max(days.count, 1))
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="system-ui, -apple-system, Segoe UI, sans-serif">
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text x="\(left)" y="30" font-size="18" font-weight="600" fill="#1f2933">\(Self.escape(title))</text>
            <text x="\(left)" y="52" font-size="12" fill="#616e7c">\(Self.escape(subtitle))</text>

            """
        for tick in ticks {
            out += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(Self.f(y(tick)))\" y2=\"\(Self.f(y(tick)))\" stroke=\"#e4e7eb\"/>\n"
            out += "<text x=\"\(left - 8)\" y=\"\(Self.f(y(tick) + 4))\" font-size=\"11\" fill=\"#616e7c\" text-anchor=\"end\">\(Self.escape(Self.format(tick, unit: unit)))</text>\n"
        }
        for (index, day) in days.enumerated() {
            let x = left + Double(index) * slot
            let barHeight = plotHeight * day.value / scaleTop
            out += "<rect x=\"\(Self.f(x + slot * 0.15))\" y=\"\(Self.f(y(day.value)))\" width=\"\(Self.f(slot * 0.7))\" height=\"\(Self.f(barHeight))\" fill=\"#3e7cb1\" rx=\"2\"><title>\(day.label): \(Self.escape(Self.format(day.value, unit: unit)))</title></rect>\n"
            if index % max(1, days.count / 10) == 0 || index == days.count - 1 {
                out += "<text x=\"\(Self.f(x + slot / 2))\" y=\"\(Self.f(height - bottom + 18))\" font-size=\"11\" fill=\"#616e7c\" text-anchor=\"middle\">\(day.label)</text>\n"
            }
        }
        if monthly && !days.isEmpty {
            let points = days.enumerated().map { "\(Self.f(left + (Double($0.offset) + 0.5) * slot)),\(Self.f(y($0.element.monthToDate)))" }
            out += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"#f0a202\" stroke-width=\"2.5\"/>\n"
        }
        if let limit {
            out += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(Self.f(y(limit)))\" y2=\"\(Self.f(y(limit)))\" stroke=\"#d64545\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n"
            out += "<text x=\"\(width - right)\" y=\"\(Self.f(y(limit) - 6))\" font-size=\"11\" fill=\"#d64545\" text-anchor=\"end\">limit \(Self.escape(Self.format(limit, unit: unit)))</text>\n"
        }
        if days.allSatisfy({ $0.value == 0 }) {
            out += "<text x=\"\(Self.f(left + plotWidth / 2))\" y=\"\(Self.f(top + plotHeight / 2))\" font-size=\"14\" fill=\"#9aa5b1\" text-anchor=\"middle\">no usage in this period</text>\n"
        }
        out += "<line x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(Self.f(top + plotHeight))\" y2=\"\(Self.f(top + plotHeight))\" stroke=\"#9aa5b1\"/>\n"
        out += "</svg>\n"
        return out
    }

    /// 1, 2 or 5 times a power of ten, about five steps up to `maximum`.
    static func ticks(upTo maximum: Double) -> [Double] {
        let rough = maximum / 5
        let magnitude = pow(10, floor(log10(max(rough, 1e-9))))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? magnitude * 10
        return (0...Int((maximum / step).rounded(.up))).map { Double($0) * step }
    }

    static func format(_ value: Double, unit: String) -> String {
        if unit == "bytes" {
            let units = ["B", "KiB", "MiB", "GiB", "TiB"]
            var v = value, i = 0
            while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
            return (v.rounded() == v ? String(Int(v)) : String(format: "%.1f", v)) + " " + units[i]
        }
        let number = value.rounded() == value ? String(Int(value)) : String(format: "%.2f", value)
        return unit == "seconds" ? number + " s" : number
    }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
