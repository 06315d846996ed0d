import ArgumentParser
import Foundation
import Policy

/// `warden policy eval`: one query, output shaped as `opa eval --format json`.
struct PolicyEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Evaluate a Rego query.")

    @Option(name: [.short, .customLong("data")], help: "A .rego or .json file, or a directory of them (repeatable).")
    var data: [String] = []

    @Option(name: [.short, .customLong("input")], help: "The input document (JSON).")
    var input: String?

    @Option(name: .customLong("input-term"), help: "A file holding the input as a Rego term (sets allowed).")
    var inputTerm: String?

    @Option(name: .customLong("format"), help: "json or pretty.")
    var format: String = "json"

    @Flag(name: .customLong("strict-builtin-errors"), help: "Builtin errors stop evaluation.")
    var strictBuiltinErrors = false

    @Argument(help: "The query, e.g. data.warden.decision.")
    var query: String

    func run() throws {
        let pretty = format == "pretty"
        do {
            let loader = try PolicyLoader(paths: data)
            let policy = try CompiledPolicy(sources: loader.sources, data: loader.data)
            let prepared = try policy.prepare(query)
            var inputValue = try PolicyLoader.input(input)
            if let inputTerm {
                inputValue = try CompiledPolicy.value(ofTerm: try String(contentsOfFile: inputTerm, encoding: .utf8))
            }
            let results = try prepared.evaluate(input: inputValue,
                                                options: EvaluationOptions(strictBuiltinErrors: strictBuiltinErrors,
                                                                           printHandler: printToStandardError))
            print(resultDocument(results, pretty: pretty))
        } catch let e as PolicyError {
            print(errorDocument([e]))
            throw ExitCode(1)
        } catch let e as JSONParseError {
            print(errorDocument([PolicyError("invalid_json", e.description)]))
            throw ExitCode(1)
        }
    }

    func resultDocument(_ results: [QueryResult], pretty: Bool) -> String {
        if results.isEmpty { return "{}" }
        let items: [Value] = results.map { r in
            let expressions: [Value] = r.expressions.map { v in
                .object(RegoObject([
                    (Value.string("value"), v), (Value.string("text"), Value.string(query)),
                    (Value.string("location"), Value.object(RegoObject([(Value.string("row"), Value(1)), (Value.string("col"), Value(1))]))),
                ]))
            }
            var pairs: [(Value, Value)] = [(Value.string("expressions"), Value.array(expressions))]
            if !r.bindings.isEmpty {
                pairs.append((Value.string("bindings"), .object(RegoObject(r.bindings.map { (.string($0.name), $0.value) }))))
            }
            return .object(RegoObject(pairs))
        }
        return Value.object(RegoObject([(Value.string("result"), Value.array(items))])).jsonText(pretty: pretty)
    }
}
