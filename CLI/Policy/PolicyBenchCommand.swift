import ArgumentParser
import Foundation
import Policy

/// `warden policy bench`: prepares once, evaluates in process many times, reports latency.
struct PolicyBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmark a Rego query in process.")

    @Option(name: [.short, .customLong("data")], help: "A .rego or .json file, or a directory of them (repeatable).")
    var data: [String] = []

    @Option(name: [.short, .customLong("input")], help: "The input document (JSON).")
    var input: String?

    @Option(name: .customLong("count"), help: "Number of evaluations.")
    var count: Int = 10_000

    @Option(name: .customLong("format"), help: "pretty or json.")
    var format: String = "pretty"

    @Argument(help: "The query.")
    var query: String

    func run() throws {
        let loader = try PolicyLoader(paths: data)
        let inputValue = try PolicyLoader.input(input)
        let prepared: PreparedQuery
        do {
            prepared = try CompiledPolicy(sources: loader.sources, data: loader.data).prepare(query)
        } catch let e as PolicyError {
            print(e.description)
            throw ExitCode(1)
        }
        let n = max(1, count)
        var samples: [Double] = []
        samples.reserveCapacity(n)
        let clock = ContinuousClock()
        // Warm up caches and allocators before measuring.
        for _ in 0..<min(100, n) { _ = try prepared.evaluate(input: inputValue) }
        let total = try clock.measure {
            for _ in 0..<n {
                let t = try clock.measure { _ = try prepared.evaluate(input: inputValue) }
                samples.append(Double(t.components.seconds) * 1e6 + Double(t.components.attoseconds) / 1e12)
            }
        }
        samples.sort()
        let median = samples[n / 2]
        let p99 = samples[min(n - 1, Int(Double(n) * 0.99))]
        let seconds = Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18
        let rate = Double(n) / seconds
        if format == "json" {
            print("{\"count\":\(n),\"median_us\":\(String(format: "%.3f", median)),\"p99_us\":\(String(format: "%.3f", p99)),\"decisions_per_second\":\(String(format: "%.1f", rate))}")
        } else {
            print(String(format: "evaluations: %d\nmedian:      %.2f µs\np99:         %.2f µs\ndecisions/s: %.0f", n, median, p99, rate))
        }
    }
}
