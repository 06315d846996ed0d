import ArgumentParser
import Foundation
import Supervisor

/// Options every operator command shares: where the daemon is, and how to print.
struct AdminOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"),
            help: "State directory of the running daemon (default $WARDEN_STATE_DIR, else ./var).")
    var stateDirectory: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    var client: AdminClient { Self.client(stateDirectory) }

    static func client(_ stateDirectory: String?) -> AdminClient {
        AdminClient(stateDirectory: stateDirectory
            ?? ProcessInfo.processInfo.environment[ConfigurationKey.stateDirectory.environmentVariable]
            ?? SupervisorConfiguration().stateDirectory)
    }
}
