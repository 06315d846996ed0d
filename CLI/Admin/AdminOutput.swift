import Foundation
import Store
import Supervisor

/// How operator commands print records: tables for people, JSON for scripts.
enum AdminOutput {
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONCoding.encoder
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func tenantTable(_ tenants: [Tenant]) -> String {
        var table = TableRenderer("ID", "NAME", "PLAN", "STATUS", "HOST IDS", "CREATED")
        for tenant in tenants {
            table.add(tenant.id, tenant.name, tenant.plan, tenant.status.rawValue, hostIDs(tenant), date(tenant.createdAt))
        }
        return table.render()
    }

    static func tenantDetails(_ tenant: Tenant) -> String {
        var table = TableRenderer("FIELD", "VALUE")
        table.add("id", tenant.id)
        table.add("name", tenant.name)
        table.add("plan", tenant.plan)
        table.add("status", tenant.status.rawValue)
        table.add("host ids", hostIDs(tenant))
        table.add("created", date(tenant.createdAt))
        table.add("updated", date(tenant.updatedAt))
        // The header row only helps in lists.
        return table.render().split(separator: "\n").dropFirst().joined(separator: "\n")
    }

    static func keyTable(_ keys: [APIKey]) -> String {
        var table = TableRenderer("ID", "TENANT", "PREFIX", "STATUS", "CREATED", "LAST USED")
        for key in keys {
            table.add(key.id, key.tenantID, key.prefix, key.isRevoked ? "revoked" : "active",
                      date(key.createdAt), key.lastUsedAt.map(date) ?? "never")
        }
        return table.render()
    }

    static func hostIDs(_ tenant: Tenant) -> String {
        "\(tenant.hostIDBase)-\(tenant.hostIDBase + tenant.hostIDCount - 1)"
    }

    /// A short span: "0.4 s", "12 s", "3 min", "2 h".
    static func age(milliseconds: Int64) -> String {
        let seconds = Double(max(0, milliseconds)) / 1000
        if seconds < 10 { return String(format: "%.1f s", seconds) }
        if seconds < 120 { return "\(Int(seconds)) s" }
        if seconds < 7200 { return "\(Int(seconds / 60)) min" }
        return "\(Int(seconds / 3600)) h"
    }

    static func date(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false)
            .timeSeparator(.colon))
    }
}

extension AdminOutput {
    static func printJSONLine(_ value: some Encodable) throws {
        let encoder = JSONCoding.encoder
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func auditTable(_ records: [AuditRecord]) -> String {
        var table = TableRenderer("ID", "TIME", "EVENT", "TENANT", "TOOL", "DECISION", "REQUEST", "REASONS")
        for r in records {
            table.add(String(r.id), date(r.time), r.event, r.tenantID ?? "-", r.tool ?? "-", r.decision,
                      r.requestID ?? r.actor ?? "-", r.reasons.joined(separator: "; "))
        }
        return table.render()
    }

    static func approvalTable(_ approvals: [ApprovalView]) -> String {
        var table = TableRenderer("ID", "TENANT", "TOOL", "STATUS", "CREATED", "EXPIRES", "REASONS")
        for a in approvals {
            table.add(a.id, a.tenantID, a.tool, a.status.rawValue, date(a.createdAt), date(a.expiresAt),
                      a.reasons.joined(separator: "; "))
        }
        return table.render()
    }

    static func approvalDetails(_ a: ApprovalView) -> String {
        var table = TableRenderer("FIELD", "VALUE")
        table.add("id", a.id)
        table.add("tenant", a.tenantID)
        table.add("tool", a.tool)
        table.add("status", a.status.rawValue)
        table.add("request id", a.requestID)
        table.add("reasons", a.reasons.joined(separator: "; "))
        table.add("created", date(a.createdAt))
        table.add("expires", date(a.expiresAt))
        if let decidedAt = a.decidedAt { table.add("decided", date(decidedAt)) }
        if let by = a.decidedBy { table.add("decided by", by) }
        if let note = a.note { table.add("note", note) }
        if let status = a.resultStatus { table.add("result status", String(status)) }
        return table.render().split(separator: "\n").dropFirst().joined(separator: "\n")
    }
}

extension AdminOutput {
    static func number(_ value: Double?) -> String {
        guard let value else { return "-" }
        return value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.3f", value)
    }

    static func limitText(_ limit: Limit?) -> String {
        guard let limit else { return "-" }
        return number(limit.limit) + (limit.hard ? "" : " (soft)")
    }

    static func planTable(_ plans: [Plan]) -> String {
        var table = TableRenderer("NAME", "TOOLS", "NETWORK", "LIMITS", "TIME ZONE")
        for p in plans {
            table.add(p.name, p.tools.joined(separator: ","), p.network ? "yes" : "no", String(p.limits.count), p.timeZone)
        }
        return table.render()
    }

    static func planDetails(_ plan: Plan) -> String {
        var lines = ["name            \(plan.name)", "tools           \(plan.tools.joined(separator: ", "))",
                     "approval tools  \(plan.approvalTools.isEmpty ? "-" : plan.approvalTools.joined(separator: ", "))",
                     "network         \(plan.network ? "yes" : "no")", "time zone       \(plan.timeZone)", ""]
        lines.append(limitTable(plan.limits))
        return lines.joined(separator: "\n")
    }

    static func limitTable(_ limits: [String: Limit]) -> String {
        var table = TableRenderer("METRIC", "LIMIT", "KIND")
        for (metric, limit) in limits.sorted(by: { $0.key < $1.key }) {
            table.add(metric, number(limit.limit), limit.hard ? "hard" : "soft")
        }
        return table.render()
    }

    /// Like `kubectl describe resourcequota`: one line per metric.
    static func quotaTable(_ report: QuotaReport, all: Bool) -> String {
        var table = TableRenderer("METRIC", "HARD", "SOFT", "USED", "REMAINING", "RESETS", "SOURCE")
        for row in report.metrics where all || row.limit != nil {
            let hard = row.hard == true ? number(row.limit) : "-"
            let soft = row.hard == false ? number(row.limit) : "-"
            let used = row.kind == .ceiling ? "-" : number(row.used ?? 0)
            table.add(row.metric, hard, soft, used, row.kind == .ceiling ? "-" : number(row.remaining),
                      row.resetsAt.map(date) ?? "-", row.source ?? "-")
        }
        return "tenant \(report.tenantID)  plan \(report.plan)  periods in \(report.timeZone)\n" + table.render()
    }

    static func usageTable(_ report: UsageReport) -> String {
        var table = TableRenderer("TENANT", report.by.rawValue.uppercased(), "CALLS", "FAILED", "CPU S", "WALL S",
                                  "BYTES IN", "BYTES OUT", "EGRESS", "PEAK MEMORY")
        for r in report.rows {
            table.add(r.tenantID, r.group, String(r.calls), String(r.failed), String(format: "%.3f", r.cpuSeconds),
                      String(format: "%.3f", r.wallSeconds), String(r.bytesIn), String(r.bytesOut), String(r.egressBytes),
                      String(r.memoryPeakBytes))
        }
        return table.render()
    }

    /// RFC 4180: a header line, then one line per row; fields quoted when they need it.
    static func usageCSV(_ report: UsageReport) -> String {
        func field(_ text: String) -> String {
            text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
                ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        var lines = ["tenant_id,\(report.by.rawValue),calls,failed,cpu_seconds,wall_seconds,bytes_in,bytes_out,egress_bytes,memory_peak_bytes"]
        for r in report.rows {
            lines.append([field(r.tenantID), field(r.group), String(r.calls), String(r.failed), String(format: "%.3f", r.cpuSeconds),
                          String(format: "%.3f", r.wallSeconds), String(r.bytesIn), String(r.bytesOut), String(r.egressBytes),
                          String(r.memoryPeakBytes)].joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
