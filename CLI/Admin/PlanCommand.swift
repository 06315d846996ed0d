import ArgumentParser
import Foundation
import Store
import Supervisor

/// `warden plan …`: the plans tenants are on, and their limits.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "List, show, create, change and delete plans.",
        discussion: """
            Limits are METRIC=VALUE, hard unless marked soft (METRIC=VALUE:soft); METRIC=none removes one. \
            Metrics: \(Metric.catalog.keys.sorted().joined(separator: ", ")).
            """,
        subcommands: [List.self, Show.self, Create.self, Set.self, Delete.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List plans.")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let plans = try await options.client.plans()
            if options.json { try AdminOutput.printJSON(AdminAPI.PlanList(plans: plans)) } else { Swift.print(AdminOutput.planTable(plans)) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a plan's tools and every limit.")
        @Argument(help: "Plan name.") var name: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try PlanCommand.print(try await options.client.plan(name), options)
        }
    }

    /// What creating and changing a plan share.
    struct Changes: ParsableArguments {
        @Argument(help: "Limits: METRIC=VALUE, METRIC=VALUE:soft, METRIC=none.") var limits: [String] = []
        @Option(help: "Tools the plan may call, comma-separated (\(Plan.knownTools.joined(separator: ", "))).")
        var tools: String?
        @Option(name: .customLong("approval-tools"), help: "Tools whose calls wait for an operator, comma-separated.")
        var approvalTools: String?
        @Option(help: "Whether calls may use the network: true or false.") var network: Bool?
        @Option(name: .customLong("time-zone"), help: "Time zone of the day and month periods (IANA name, default UTC).")
        var timeZone: String?

        func apply(to plan: inout Plan) throws {
            if let tools { plan.tools = Self.list(tools) }
            if let approvalTools { plan.approvalTools = Self.list(approvalTools) }
            if let network { plan.network = network }
            if let timeZone { plan.timeZone = timeZone }
            for (metric, limit) in try LimitArgument.parse(limits) { plan.limits[metric] = limit }
        }

        static func list(_ text: String) -> [String] {
            text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a plan (from another with --from).")
        @Argument(help: "Plan name.") var name: String
        @Option(help: "Start from a copy of this plan.") var from: String?
        @OptionGroup var changes: Changes
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let client = options.client
            var plan = Plan(name: name, tools: [], network: false, limits: [:])
            if let from { plan = try await client.plan(from) }
            plan.name = name
            try changes.apply(to: &plan)
            try PlanCommand.print(try await client.createPlan(plan), options)
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a plan; its tenants get the new limits on their next call.")
        @Argument(help: "Plan name.") var name: String
        @OptionGroup var changes: Changes
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let client = options.client
            var plan = try await client.plan(name)
            try changes.apply(to: &plan)
            try PlanCommand.print(try await client.updatePlan(plan), options)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a plan no tenant is on.")
        @Argument(help: "Plan name.") var name: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try await options.client.deletePlan(name)
            if !options.json { Swift.print("plan \(name) deleted") }
        }
    }

    static func print(_ plan: Plan, _ options: AdminOptions) throws {
        if options.json { try AdminOutput.printJSON(plan) } else { Swift.print(AdminOutput.planDetails(plan)) }
    }
}

/// `METRIC=VALUE[:soft]` and `METRIC=none` on the command line.
enum LimitArgument {
    static func parse(_ arguments: [String]) throws -> [(String, Limit?)] {
        try arguments.map { argument in
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ValidationError("'\(argument)' is not METRIC=VALUE (for example exec.calls.day=500 or storage.bytes=5G:soft)")
            }
            if parts[1] == "none" { return (parts[0], nil) }
            var value = parts[1]
            var hard = true
            if value.hasSuffix(":soft") { value.removeLast(5); hard = false } else if value.hasSuffix(":hard") { value.removeLast(5) }
            guard let number = Self.number(value) else {
                throw ValidationError("'\(parts[1])' of \(parts[0]) is not a number (suffixes K, M, G, T count bytes in 1024s)")
            }
            return (parts[0], Limit(number, hard: hard))
        }
    }

    static func number(_ text: String) -> Double? {
        let scales: [Character: Double] = ["K": 1024, "M": 1_048_576, "G": 1_073_741_824, "T": 1_099_511_627_776]
        if let last = text.last, let scale = scales[Character(last.uppercased())], let base = Double(text.dropLast()) {
            return base * scale
        }
        return Double(text)
    }
}
