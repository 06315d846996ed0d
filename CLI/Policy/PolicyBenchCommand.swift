import ArgumentParser
import Foundation
import Policy

/// `warden policy bench`: prepares once, evaluates in process many times, reports latency.
/// With several inputs (`-i` repeated, or `--inputs` JSONL) the evaluations cycle through them.
struct PolicyBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmark a Rego query in process.")

    @Option(name: [.short, .customLong("data")], help: "A .rego or .json file, or a directory of them (repeatable).")
    var data: [String] = []

    @Option(name: [.short, .customLong("input")], help: "An input document (JSON; repeatable).")
    var input: [String] = []

    @Option(name: .customLong("inputs"), help: "A file of input documents, one JSON document a line.")
    var inputs: String?

    @Option(name: .customLong("count"), help: "Number of evaluations.")
    var count: Int = 10_000

    @Option(name: .customLong("format"), help: "pretty or json.")
    var format: String = "pretty"

    @Argument(help: "The query.")
    var query: String

    func run() throws {
        let loader = try PolicyLoader(paths: data)
        var inputValues: [Value?] = try input.map { try PolicyLoader.input($0) }
        if let inputs { inputValues += try Self.jsonLines(inputs) }
        if inputValues.isEmpty { inputValues = [nil] }
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
        // Each input's decision, for comparison with other engines; also warms caches and allocators.
        var decisions: [Value] = []
        for v in inputValues { decisions.append(Self.decision(try prepared.evaluate(input: v))) }
        for i in 0..<min(100, n) { _ = try prepared.evaluate(input: inputValues[i % inputValues.count]) }
        let total = try clock.measure {
            for i in 0..<n {
                let inputValue = inputValues[i % inputValues.count]
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
            let results = Value.array(decisions).jsonText()
            print("{\"count\":\(n),\"inputs\":\(inputValues.count),\"median_us\":\(String(format: "%.3f", median)),\"p99_us\":\(String(format: "%.3f", p99)),\"decisions_per_second\":\(String(format: "%.1f", rate)),\"results\":\(results)}")
        } else {
            print(String(format: "evaluations: %d (%d inputs)\nmedian:      %.2f µs\np99:         %.2f µs\ndecisions/s: %.0f",
                         n, inputValues.count, median, p99, rate))
        }
    }

    /// The value of the query's first expression in its first result; null when undefined.
    static func decision(_ results: [QueryResult]) -> Value {
        results.first?.expressions.first ?? .null
    }

    /// Reads one JSON document per non-empty line.
    static func jsonLines(_ path: String) throws -> [Value?] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }.map {
            try Value(jsonData: Data($0.utf8))
        }
    }
}
