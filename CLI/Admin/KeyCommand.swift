import ArgumentParser
import Foundation
import Store
import Supervisor

/// `warden key …`: tenants' API keys.
struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Issue, list and revoke tenants' API keys.",
        subcommands: [Issue.self, List.self, Revoke.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a key for a tenant. The token is printed once and never stored.")
        @Argument(help: "Tenant id or name.") var tenant: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let issued = try await options.client.issueKey(for: tenant)
            if options.json {
                try AdminOutput.printJSON(issued)
                return
            }
            print(issued.token)
            FileHandle.standardError.write(Data(
                "key \(issued.key.id) for tenant \(issued.tenant.name) (\(issued.tenant.id)); keep the token now, it is not shown again\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys, of one tenant or of all.")
        @Argument(help: "Tenant id or name; all tenants when omitted.") var tenant: String?
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let keys = try await options.client.listKeys(of: tenant)
            if options.json {
                try AdminOutput.printJSON(AdminAPI.KeyList(keys: keys))
            } else {
                print(AdminOutput.keyTable(keys))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key; calls with it get 401 at once.")
        @Argument(help: "Key id (k_…).") var key: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let revoked = try await options.client.revokeKey(key)
            if options.json {
                try AdminOutput.printJSON(revoked)
            } else {
                print(AdminOutput.keyTable([revoked]))
            }
        }
    }
}
