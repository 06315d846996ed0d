import ArgumentParser
import Foundation
import Store
import Supervisor

/// `warden approvals …`: calls the policy held for a person to decide.
struct ApprovalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approvals",
        abstract: "List, approve and deny calls held for approval.",
        subcommands: [List.self, Show.self, Approve.self, Deny.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List approvals, newest first (pending ones by default).")
        @Option(help: "Only this status (pending, approved, running, completed, failed, denied, expired).")
        var status: String?
        @Flag(help: "Every status, not only pending.") var all = false
        @Option(help: "Only this tenant (id or name).") var tenant: String?
        @Option(help: "At most this many (default 100).") var limit = 100
        @OptionGroup var options: AdminOptions

        func run() async throws {
            var wanted: ApprovalStatus? = all ? nil : .pending
            if let status {
                guard let parsed = ApprovalStatus(rawValue: status) else {
                    throw ValidationError("--status must be one of \(ApprovalStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                wanted = parsed
            }
            let approvals = try await options.client.approvals(status: wanted, tenant: tenant, limit: limit)
            if options.json {
                try AdminOutput.printJSON(AdminAPI.ApprovalList(approvals: approvals))
            } else {
                Swift.print(AdminOutput.approvalTable(approvals))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one approval with its reasons and result.")
        @Argument(help: "Approval id (ap_…).") var id: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try ApprovalsCommand.print(try await options.client.approval(id), options)
        }
    }

    /// What approving and denying share: the approval, an optional note, the daemon.
    struct Decision: ParsableArguments {
        @Argument(help: "Approval id (ap_…).") var id: String
        @Option(help: "A note kept with the decision (the tenant sees it).") var note: String?
        @OptionGroup var options: AdminOptions
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a held call: it runs now, once.")
        @OptionGroup var decision: Decision

        func run() async throws {
            let client = decision.options.client
            try ApprovalsCommand.print(try await client.approve(decision.id, note: decision.note), decision.options)
        }
    }

    struct Deny: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deny a held call: it never runs.")
        @OptionGroup var decision: Decision

        func run() async throws {
            let client = decision.options.client
            try ApprovalsCommand.print(try await client.deny(decision.id, note: decision.note), decision.options)
        }
    }

    static func print(_ approval: ApprovalView, _ options: AdminOptions) throws {
        if options.json { try AdminOutput.printJSON(approval) } else { Swift.print(AdminOutput.approvalDetails(approval)) }
    }
}
