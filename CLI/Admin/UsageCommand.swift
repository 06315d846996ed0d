import ArgumentParser
import Foundation
import Store
import Supervisor

/// `warden usage`: what tenants used, from the usage ledger.
struct UsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Report usage from the ledger, per day, month or tool.",
        subcommands: [Report.self, UsageChartCommand.self],
        defaultSubcommand: Report.self)

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "report", abstract: "Usage summed per day, month or tool.")
        @Option(help: "Only this tenant (id or name).") var tenant: String?
        @Option(help: "From this time: RFC 3339 or an age (15m, 2h, 7d).") var since: String?
        @Option(help: "Before this time, in the same forms.") var until: String?
        @Option(help: "Group by day, month or tool (default day).") var by: UsageReport.Grouping = .day
        @Option(help: "table, csv or json (default table).") var format: UsageFormat = .table
        @Option(name: .customLong("state-dir"), help: "State directory of the running daemon (default $WARDEN_STATE_DIR, else ./var).")
        var stateDirectory: String?

        func run() async throws {
            let client = AdminOptions.client(stateDirectory)
            let report = try await client.usage(tenant: tenant, since: try since.map { try TimeArgument.parse($0, "--since") },
                                                until: try until.map { try TimeArgument.parse($0, "--until") }, by: by)
            switch format {
            case .json: try AdminOutput.printJSON(report)
            case .csv: print(AdminOutput.usageCSV(report), terminator: "")
            case .table: print(AdminOutput.usageTable(report))
            }
        }
    }
}

extension UsageReport.Grouping: ExpressibleByArgument {}

enum UsageFormat: String, ExpressibleByArgument, CaseIterable { case table, csv, json }

/// `warden quota show T`: every limit of a tenant, used, remaining, reset.
struct QuotaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quota",
        abstract: "Show a tenant's limits and how much of each is used.",
        subcommands: [Show.self, QuotaBenchCommand.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hard or soft limit, used, remaining and reset time of every metric.")
        @Argument(help: "Tenant id or name.") var tenant: String
        @Flag(help: "Also list metrics without a limit.") var all = false
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let report = try await options.client.quota(tenant)
            if options.json { try AdminOutput.printJSON(report) } else { print(AdminOutput.quotaTable(report, all: all)) }
        }
    }
}

/// `warden usage chart T`: an SVG a person would rather look at than read.
struct UsageChartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chart",
        abstract: "Draw a tenant's usage of one metric over the last days as an SVG file.")

    @Argument(help: "Tenant id or name.") var tenant: String
    @Option(help: "A counter metric (default exec.calls.day): exec.calls.day, cpu.seconds.month, egress.bytes.month, …")
    var metric = "exec.calls.day"
    @Option(help: "Days shown, ending today (default 30).") var days = 30
    @Option(help: "The SVG file to write.") var out: String
    @OptionGroup var options: AdminOptions

    func run() async throws {
        let svg = try await options.client.usageChart(tenant, metric: metric, days: days)
        try svg.write(to: URL(fileURLWithPath: out))
        if !options.json { print("wrote \(out) (\(svg.count) bytes)") }
    }
}
