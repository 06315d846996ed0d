import ArgumentParser
import Foundation
import Policy

/// `warden policy check`: parse and compile errors with file:line:col.
struct PolicyCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Check Rego policies for parse and compile errors.")

    @Argument(help: "Directories or files to check.")
    var paths: [String]

    func run() throws {
        let loader = try PolicyLoader(paths: paths)
        let errors = CompiledPolicy.check(sources: loader.sources)
        for e in errors { print(e.description) }
        if !errors.isEmpty { throw ExitCode(1) }
        print("\(loader.sources.count) module(s) OK")
    }
}
