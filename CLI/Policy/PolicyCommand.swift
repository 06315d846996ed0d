import ArgumentParser

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Evaluate, test, check and benchmark Rego policies; reload the daemon's.",
        subcommands: [PolicyEvalCommand.self, PolicyTestCommand.self, PolicyCheckCommand.self, PolicyBenchCommand.self, PolicyReloadCommand.self]
    )
}
