import ArgumentParser

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Evaluate, test, check and benchmark Rego policies.",
        subcommands: [PolicyEvalCommand.self, PolicyTestCommand.self, PolicyCheckCommand.self, PolicyBenchCommand.self]
    )
}
