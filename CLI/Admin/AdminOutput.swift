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
