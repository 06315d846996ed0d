import ArgumentParser

@main
struct Warden: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warden",
        abstract: "A sandboxed multi-tenant worker supervisor.",
        subcommands: [JailCommand.self, PolicyCommand.self, ServeCommand.self, TenantCommand.self, KeyCommand.self, WorkersCommand.self, NodesCommand.self, ApprovalsCommand.self, AuditCommand.self,
                      PlanCommand.self, UsageCommand.self, QuotaCommand.self,
                      DoctorCommand.self]
    )
}
