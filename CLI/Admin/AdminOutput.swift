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
