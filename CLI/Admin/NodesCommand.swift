import ArgumentParser
import Foundation
import Store
import Supervisor

/// `warden nodes …`: the nodes sharing the store and the tenants they serve.
struct NodesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes",
        abstract: "List the nodes sharing the store, which node serves each tenant, and forget nodes that are gone.",
        subcommands: [List.self, Leases.self, Forget.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Nodes with their state (live, dead by heartbeat age, left), address and load.")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let list = try await options.client.nodes()
            if options.json {
                try AdminOutput.printJSON(list)
                return
            }
            var table = TableRenderer("NODE", "STATE", "ADVERTISE", "WORKERS", "CALLS", "LEASES", "HEARTBEAT", "STARTED")
            for node in list.nodes {
                table.add(node.id + (node.id == list.node ? " (this)" : ""), node.state.rawValue, node.advertise ?? "-",
                          String(node.workersRunning), String(node.callsInFlight), String(node.leases),
                          AdminOutput.age(milliseconds: node.heartbeatAgeMs), AdminOutput.date(node.startedAt))
            }
            Swift.print(table.render())
        }
    }

    struct Leases: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tenant leases: the node running each tenant's worker.")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let leases = try await options.client.leases()
            if options.json {
                try AdminOutput.printJSON(AdminAPI.LeaseList(leases: leases))
                return
            }
            var table = TableRenderer("TENANT", "NODE", "ADVERTISE", "EXPIRES IN", "SINCE")
            for lease in leases {
                table.add(lease.tenantID, lease.nodeID, lease.advertise ?? "-",
                          lease.remainingMs > 0 ? AdminOutput.age(milliseconds: lease.remainingMs) : "expired",
                          AdminOutput.date(lease.acquiredAt))
            }
            Swift.print(table.render())
        }
    }

    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a dead or departed node from the store (a live one is refused).",
            discussion: "Nodes that stopped for good (a pod replaced under a new id, say) stay listed as dead or left until forgotten.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "The node's id, as `warden nodes list` shows it.") var node: String

        func run() async throws {
            let forgotten = try await options.client.forgetNode(node)
            if options.json {
                try AdminOutput.printJSON(forgotten)
                return
            }
            Swift.print("forgot node \(forgotten.id) (\(forgotten.state.rawValue), last heartbeat \(AdminOutput.age(milliseconds: forgotten.heartbeatAgeMs)) ago)")
        }
    }
}
