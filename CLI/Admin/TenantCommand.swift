import ArgumentParser
import Store
import Supervisor

/// `warden tenant …`: manage tenants through the running daemon.
struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant",
        abstract: "Create, list, show, suspend, resume and delete tenants; set their plan and limits.",
        subcommands: [Create.self, List.self, Show.self, Suspend.self, Resume.self, Delete.self, SetPlan.self, Limit.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant and its workspace.")
        @Argument(help: "Tenant name: a-z, 0-9, '-', '_', '.'.") var name: String
        @Option(help: "Plan name (default free).") var plan: String?
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let tenant = try await options.client.createTenant(name: name, plan: plan)
            try TenantCommand.print(tenant, options)
        }
    }

    struct SetPlan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-plan", abstract: "Move a tenant to another plan.")
        @Argument(help: "Tenant id or name.") var tenant: String
        @Argument(help: "Plan name.") var plan: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try TenantCommand.print(try await options.client.setPlan(of: tenant, to: plan), options)
        }
    }

    struct Limit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Override a tenant's limits: METRIC=VALUE[:soft], or METRIC=plan to go back to the plan's; none lists them.")
        @Argument(help: "Tenant id or name.") var tenant: String
        @Argument(help: "METRIC=VALUE, METRIC=VALUE:soft or METRIC=plan.") var limits: [String] = []
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let client = options.client
            var current = try await client.tenantLimits(tenant)
            for argument in limits {
                let reset = argument.hasSuffix("=plan")
                let parsed = try LimitArgument.parse([reset ? String(argument.dropLast(4)) + "none" : argument])
                for (metric, limit) in parsed {
                    current = try await client.setTenantLimit(tenant, metric: metric, limit: limit)
                }
            }
            if options.json { try AdminOutput.printJSON(current) } else { Swift.print(AdminOutput.limitTable(current.limits)) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @Flag(help: "Include deleted tenants.") var all = false
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let tenants = try await options.client.listTenants(includeDeleted: all)
            if options.json {
                try AdminOutput.printJSON(AdminAPI.TenantList(tenants: tenants))
            } else {
                Swift.print(AdminOutput.tenantTable(tenants))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one tenant.")
        @Argument(help: "Tenant id or name.") var tenant: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try TenantCommand.print(try await options.client.tenant(tenant), options)
        }
    }

    struct Suspend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Refuse the tenant's calls (403) until resumed.")
        @Argument(help: "Tenant id or name.") var tenant: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try TenantCommand.print(try await options.client.suspendTenant(tenant), options)
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accept a suspended tenant's calls again.")
        @Argument(help: "Tenant id or name.") var tenant: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try TenantCommand.print(try await options.client.resumeTenant(tenant), options)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a tenant: revokes its keys and removes its workspace. Cannot be undone.")
        @Argument(help: "Tenant id or name.") var tenant: String
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try TenantCommand.print(try await options.client.deleteTenant(tenant), options)
        }
    }

    static func print(_ tenant: Tenant, _ options: AdminOptions) throws {
        if options.json {
            try AdminOutput.printJSON(tenant)
        } else {
            Swift.print(AdminOutput.tenantDetails(tenant))
        }
    }
}
