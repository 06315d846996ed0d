import ArgumentParser
import Foundation
import Policy

/// `warden policy test`: runs the `test_` rules, like `opa test`.
struct PolicyTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "test", abstract: "Run the test_ rules of Rego policies.")

    @Argument(help: "Directories or files holding policies, their *_test.rego files and data.")
    var paths: [String]

    @Flag(name: .shortAndLong, help: "Print every test, not only failures.")
    var verbose = false

    func run() throws {
        let loader = try PolicyLoader(paths: paths)
        let policy: CompiledPolicy
        do {
            policy = try CompiledPolicy(sources: loader.sources, data: loader.data)
        } catch let e as PolicyError {
            print(e.description)
            throw ExitCode(1)
        }
        var passed = 0, failed = 0, errored = 0
        for path in policy.testRulePaths() {
            let name = "data." + path.joined(separator: ".")
            let start = ContinuousClock.now
            var outcome: String
            do {
                let results = try policy.prepare(name).evaluate(options: EvaluationOptions(printHandler: printToStandardError))
                let ok = results.contains { r in r.expressions.first.map { $0 != .bool(false) } ?? false }
                outcome = ok ? "PASS" : "FAIL"
            } catch let e as PolicyError {
                outcome = "ERROR: \(e.description)"
            }
            let elapsed = ContinuousClock.now - start
            switch outcome {
            case "PASS": passed += 1
            case "FAIL": failed += 1
            default: errored += 1
            }
            if verbose || outcome != "PASS" {
                print("\(name): \(outcome) (\(elapsed.formatted(.units(allowed: [.milliseconds, .microseconds], width: .narrow))))")
            }
        }
        let total = passed + failed + errored
        print(String(repeating: "-", count: 80))
        if passed > 0 { print("PASS: \(passed)/\(total)") }
        if failed > 0 { print("FAIL: \(failed)/\(total)") }
        if errored > 0 { print("ERROR: \(errored)/\(total)") }
        if total == 0 { print("no tests found") }
        if failed + errored > 0 { throw ExitCode(1) }
    }
}
