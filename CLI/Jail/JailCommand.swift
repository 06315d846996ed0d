import ArgumentParser

struct JailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jail",
        abstract: "Run programs in a jail (namespaces, seccomp, cgroups, no capabilities).",
        subcommands: [JailRunCommand.self, JailBenchCommand.self]
    )
}
