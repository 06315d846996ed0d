import ArgumentParser
import Foundation
import Sandbox

struct JailBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time in-process jail starts (spawn to exit) of a program.",
        discussion: """
        Runs the program ROUNDS times through the Sandbox API with the full default jail: \
        every namespace, the default seccomp profile, pooled cgroups with limits and, as root, \
        a pre-made network namespace that each jail joins.
        """
    )

    @OptionGroup var options: JailOptions
    @Option(help: "How many runs.") var rounds = 200
    @Option(help: "Runs before measuring.") var warmup = 10
    @Flag(help: "Print {\"samples_ns\": [...], ...} for scripts.") var json = false
    @Flag(name: .customLong("fresh-net"), help: "Give every run its own new network namespace instead of joining a pre-made one.")
    var freshNet = false
    @Flag(help: "Run each round in a jail armed before it (the caller's network namespace), as a worker's exec calls do; arming is not timed.")
    var armed = false
    @Argument(parsing: .captureForPassthrough, help: "-- PROGRAM ARGS…")
    var command: [String] = []

    func run() throws {
        let argv = command.first == "--" ? Array(command.dropFirst()) : command
        var config = try options.config(command: argv)
        let jail = try options.jail()
        var netns: NetworkNamespace?
        let arming = armed ? JailArming(jail: jail) : nil
        defer { arming?.stop() }
        if armed {
            config.network = .inherit
        } else if !freshNet && options.net == "isolated" && jail.facts.isRoot {
            let ns = try NetworkNamespace()
            config.network = .join(path: ns.path)
            netns = ns
        }
        var samples: [UInt64] = []
        var setup: [Double] = []
        for i in 0..<(warmup + rounds) {
            if let arming {
                for _ in 0..<2000 where !arming.isReady { usleep(1000) }
            }
            let t0 = DispatchTime.now().uptimeNanoseconds
            let outcome = jail.run(config, keepOutput: false, arming: arming)
            let t1 = DispatchTime.now().uptimeNanoseconds
            guard outcome.result.status == .ok else {
                throw ValidationError("run \(i) ended with \(outcome.result.status.rawValue): \(outcome.result.message ?? "")")
            }
            if i >= warmup {
                samples.append(t1 - t0)
                setup.append(outcome.result.setupMs)
            }
        }
        withExtendedLifetime(netns) {}
        let sorted = samples.sorted()
        let median = Double(sorted[sorted.count / 2]) / 1e6
        let p90 = Double(sorted[min(sorted.count - 1, sorted.count * 9 / 10)]) / 1e6
        let setupMedian = setup.sorted()[setup.count / 2]
        if json {
            let doc: [String: Any] = ["samples_ns": samples, "median_ms": median, "p90_ms": p90,
                                      "setup_median_ms": setupMedian, "cgroups": jail.cgroups != nil,
                                      "network": armed ? "inherit" : freshNet ? "fresh" : (netns != nil ? "joined" : options.net),
                                      "armed_runs": arming?.firedCount ?? 0]
            let data = try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys])
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else {
            print(String(format: "%d runs: median %.3f ms, p90 %.3f ms (setup to execve: median %.3f ms)", rounds, median, p90, setupMedian)
                  + (arming.map { " in armed jails: \($0.firedCount) of \(warmup + rounds)" } ?? ""))
        }
    }
}
