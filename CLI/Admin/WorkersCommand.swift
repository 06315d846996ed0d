import ArgumentParser
import Foundation
import Supervisor

/// `warden workers …`: see and control the tenants' workers.
struct WorkersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "List, kill and restart tenants' workers.",
        subcommands: [PS.self, Kill.self, Restart.self])

    struct PS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ps", abstract: "List workers and their state.")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let workers = try await options.client.workers()
            if options.json {
                try AdminOutput.printJSON(AdminAPI.WorkerList(workers: workers))
                return
            }
            var table = TableRenderer("TENANT", "STATE", "PID", "CALLS", "RESTARTS", "CRASHES(60s)", "LAST USED", "LAST ERROR")
            for w in workers {
                table.add(w.tenantID, w.state, w.pid.map(String.init) ?? "-", String(w.callsInFlight), String(w.restarts),
                          String(w.recentCrashes), w.lastUsedAt.map(AdminOutput.date) ?? "-", w.lastError ?? "")
            }
            Swift.print(table.render())
        }
    }

    struct Kill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Kill a tenant's worker and everything in its jail now.")
        @Argument(help: "Tenant id or name.") var tenant: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let action = try await options.client.killWorker(tenant)
            if options.json { try AdminOutput.printJSON(action) } else { Swift.print("\(action.tenantID): \(action.action)") }
        }
    }

    struct Restart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Clear a degraded mark and stop the worker; the next call starts a fresh one.")
        @Argument(help: "Tenant id or name.") var tenant: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let action = try await options.client.restartWorker(tenant)
            if options.json { try AdminOutput.printJSON(action) } else { Swift.print("\(action.tenantID): \(action.action)") }
        }
    }
}
