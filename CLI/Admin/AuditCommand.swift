import ArgumentParser
import Foundation
import Store
import Supervisor

/// `warden audit …`: the decisions and operator actions the daemon recorded.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read the audit log: every policy decision, approval and policy reload.",
        subcommands: [List.self, Tail.self])

    struct Filter: ParsableArguments {
        @Option(help: "Only this tenant (id or name).") var tenant: String?
        @Option(help: "From this time: RFC 3339 (2026-11-21T09:00:00Z) or an age (90s, 15m, 2h, 7d).") var since: String?
        @Option(help: "Before this time, in the same forms as --since.") var until: String?

        func query(limit: Int) throws -> AuditQuery {
            AuditQuery(since: try since.map { try TimeArgument.parse($0, "--since") },
                       until: try until.map { try TimeArgument.parse($0, "--until") }, limit: limit)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List audit records, oldest first.")
        @OptionGroup var filter: Filter
        @Option(help: "At most this many records, the newest ones (default 100).") var limit = 100
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let records = try await options.client.audit(try filter.query(limit: limit), tenant: filter.tenant)
            if options.json {
                try AdminOutput.printJSON(AdminAPI.AuditList(records: records))
            } else {
                print(AdminOutput.auditTable(records))
            }
        }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the last records, then follow new ones as they are written (Ctrl-C stops).")
        @OptionGroup var filter: Filter
        @Option(name: [.customShort("n"), .long], help: "How many records to show first (default 20).") var lines = 20
        @Flag(name: .customLong("no-follow"), help: "Print the last records and stop.") var noFollow = false
        @Option(help: "Seconds between polls while following (default 1).") var interval = 1.0
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let client = options.client
            var query = try filter.query(limit: lines)
            var records = try await client.audit(query, tenant: filter.tenant)
            var printedHeader = false
            while true {
                if options.json {
                    // One JSON object per line, so a pipe can read records as they come.
                    for record in records { try AdminOutput.printJSONLine(record) }
                } else if !records.isEmpty {
                    let table = AdminOutput.auditTable(records).split(separator: "\n", omittingEmptySubsequences: false)
                    print(table.dropFirst(printedHeader ? 1 : 0).joined(separator: "\n"))
                    printedHeader = true
                }
                fflush(nil)  // all streams: a pipe sees each record at once
                if noFollow { return }
                query.afterID = records.last?.id ?? query.afterID ?? 0
                query.limit = 1000
                try await Task.sleep(for: .milliseconds(Int64(max(0.05, interval) * 1000)))
                records = try await client.audit(query, tenant: filter.tenant)
            }
        }
    }
}

/// Times on the command line: RFC 3339, or an age counted back from now.
enum TimeArgument {
    static func parse(_ text: String, _ flag: String, now: Date = Date()) throws -> Date {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        if let unit = text.last, let scale = units[unit], let amount = Double(text.dropLast()), amount >= 0 {
            return now.addingTimeInterval(-amount * scale)
        }
        if let date = RFC3339.parse(text, allowDate: true) { return date }
        throw ValidationError("\(flag) '\(text)' is neither an RFC 3339 time (2026-11-21T09:00:00Z) nor an age (15m, 2h, 7d)")
    }
}
