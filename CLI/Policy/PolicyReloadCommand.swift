import ArgumentParser
import Foundation
import Supervisor

/// `warden policy reload`: the running daemon compiles its policy directory
/// again; broken files are listed and the old policies stay active.
struct PolicyReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Tell the running daemon to reload its policies (as SIGHUP does).")
    @OptionGroup var options: AdminOptions

    func run() async throws {
        do {
            let summary = try await options.client.reloadPolicy()
            if options.json {
                try AdminOutput.printJSON(summary)
            } else {
                print("reloaded \(summary.files.count) files from \(summary.directory) (digest \(summary.digest.prefix(12)))")
            }
        } catch AdminClientError.refused(_, "policy_invalid", let message) {
            FileHandle.standardError.write(Data((message + "\n").utf8))
            throw ExitCode(1)
        }
    }
}
