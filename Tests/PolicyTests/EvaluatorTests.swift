import Foundation
import Testing
@testable import Policy

/// Evaluates `query` against `modules` and returns the bindings of each solution.
func solutions(_ query: String, modules: [String] = [], data: String = "{}", input: String? = nil,
               strict: Bool = false) throws -> [[String: Value]] {
    let sources = modules.enumerated().map { PolicySource(file: "m\($0.offset).rego", text: $0.element) }
    let policy = try CompiledPolicy(sources: sources, data: try Value(json: data))
    let results = try policy.prepare(query).evaluate(input: try input.map { try Value(json: $0) },
                                                     options: EvaluationOptions(strictBuiltinErrors: strict))
    return results.map { r in Dictionary(uniqueKeysWithValues: r.bindings.map { ($0.name, $0.value) }) }
}

/// The single value bound to `x`.
func value(_ query: String, _ modules: [String] = [], data: String = "{}", input: String? = nil) throws -> Value? {
    let s = try solutions(query, modules: modules, data: data, input: input)
    return s.count == 1 ? s[0]["x"] : nil
}

@Suite("Evaluator")
struct EvaluatorTests {
    @Test("complete rules, defaults and undefined")
    func completeRules() throws {
        let m = """
        package t
        default allow := false
        allow if input.user == "alice"
        name := input.user
        """
        #expect(try value("x := data.t.allow", [m], input: #"{"user": "alice"}"#) == true)
        #expect(try value("x := data.t.allow", [m], input: #"{"user": "bob"}"#) == false)
        #expect(try solutions("x := data.t.name", modules: [m]).isEmpty)
    }

    @Test("partial sets and objects, with iteration over them")
    func partialRules() throws {
        let m = """
        package t
        evens contains x if { some x in input.xs; x % 2 == 0 }
        double[k] := v * 2 if { some k, v in input.m }
        """
        #expect(try value("x := data.t.evens", [m], input: #"{"xs": [1, 2, 3, 4]}"#) == .set(RegoSet([2, 4])))
        #expect(try value("x := data.t.double", [m], input: #"{"m": {"a": 1}}"#)
            == .object(RegoObject([("a", 2)])))
        let keys = try solutions("data.t.double[k]", modules: [m], input: #"{"m": {"a": 1, "b": 2}}"#)
        #expect(Set(keys.compactMap { $0["k"] }) == ["a", "b"])
    }

    @Test("functions with several definitions and else")
    func functions() throws {
        let m = """
        package t
        size(n) := "small" if n < 10
        else := "big"
        f(x) := 1 if x == 1
        f(x) := 2 if x == 2
        """
        #expect(try value("x := data.t.size(3)", [m]) == "small")
        #expect(try value("x := data.t.size(30)", [m]) == "big")
        #expect(try value("x := data.t.f(2)", [m]) == 2)
        #expect(try solutions("x := data.t.f(3)", modules: [m]).isEmpty)
    }

    @Test("every, not, and comprehensions")
    func quantifiers() throws {
        let m = """
        package t
        all_positive if every x in input.xs { x > 0 }
        no_admin if not "admin" in input.roles
        names := [n | some u in input.users; n := u.name]
        by_name := {u.name: u.age | some u in input.users}
        """
        #expect(try value("x := data.t.all_positive", [m], input: #"{"xs": [1, 2]}"#) == true)
        #expect(try solutions("x := data.t.all_positive", modules: [m], input: #"{"xs": [1, -2]}"#).isEmpty)
        #expect(try value("x := data.t.no_admin", [m], input: #"{"roles": ["dev"]}"#) == true)
        let users = #"{"users": [{"name": "a", "age": 3}, {"name": "b", "age": 4}]}"#
        #expect(try value("x := data.t.names", [m], input: users) == ["a", "b"])
        #expect(try value("x := data.t.by_name", [m], input: users) == .object(RegoObject([("a", 3), ("b", 4)])))
    }

    @Test("with replaces input, data and functions")
    func withModifier() throws {
        let m = """
        package t
        allow if input.role == data.roles.admin
        double(x) := x * 2
        r := double(2)
        """
        #expect(try value(#"x := data.t.allow with input as {"role": "root"} with data.roles.admin as "root""#, [m]) == true)
        #expect(try value(#"x := data.t.r with data.t.double as 7"#, [m]) == 7)
    }

    @Test("safety reordering and unsafe variables")
    func safety() throws {
        #expect(try value("x > 1; x = 2") == 2)
        #expect(throws: PolicyError.self) { try solutions("x > 1") }
        #expect(throws: PolicyError.self) {
            try solutions("data.t.p = x", modules: ["package t\np contains y if { x := 1 }"])
        }
    }

    @Test("conflicts are evaluation errors")
    func conflicts() throws {
        let m = """
        package t
        p := 1
        p := 2
        """
        let error = try #require(throws: PolicyError.self) { try solutions("x := data.t.p", modules: [m]) }
        #expect(error.code == "eval_conflict_error")
        #expect(error.message == "complete rules must not produce multiple outputs")
    }

    @Test("builtin errors: undefined by default, errors when strict")
    func builtinErrors() throws {
        #expect(try solutions("x := 1 / 0").isEmpty)
        let error = try #require(throws: PolicyError.self) { try solutions("x := 1 / 0", strict: true) }
        #expect(error.code == "eval_builtin_error")
        #expect(error.message == "div: divide by zero")
    }

    @Test("a runaway policy is cut off by the step budget")
    func budget() throws {
        let policy = try CompiledPolicy(sources: [PolicySource(file: "a.rego", text: """
        package t
        n := count([1 | some a in numbers; some b in numbers; some c in numbers])
        numbers := [x | some x in input.xs]
        """)])
        let input = Value.object(RegoObject([("xs", .array((0..<200).map { Value($0) }))]))
        let error = try #require(throws: PolicyError.self) {
            try policy.prepare("data.t.n").evaluate(input: input, options: EvaluationOptions(stepLimit: 100_000))
        }
        #expect(error.code == "eval_budget_error")
    }

    @Test("parse errors carry file, row and column")
    func parseErrors() throws {
        let error = try #require(throws: PolicyError.self) {
            try CompiledPolicy(sources: [PolicySource(file: "bad.rego", text: "package t\n\np := [1,\n")])
        }
        #expect(error.code == "rego_parse_error")
        #expect(error.location?.file == "bad.rego")
        #expect(error.location?.row == 4)
    }

    @Test("string templates")
    func templates() throws {
        #expect(try value(#"x := $"n={1 + 1} s={{1}}""#) == "n=2 s={1}")
    }
}

/// Lines collected from `print(...)` (the handler may be called from any thread).
final class PrintedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    var lines: [String] { lock.withLock { storage } }
    func append(_ line: String) { lock.withLock { storage.append(line) } }
}

@Suite("print")
struct PrintTests {
    func printed(_ query: String, _ modules: [String] = [], input: String? = nil) throws -> (results: Int, lines: [String]) {
        let sources = modules.enumerated().map { PolicySource(file: "m\($0.offset).rego", text: $0.element) }
        let out = PrintedLines()
        let results = try CompiledPolicy(sources: sources).prepare(query)
            .evaluate(input: try input.map { try Value(json: $0) }, options: EvaluationOptions(printHandler: out.append))
        return (results.count, out.lines)
    }

    @Test("print writes its operands, space separated, and is always true")
    func printsOperands() throws {
        let m = """
        package t
        allow if {
            print("user", input.user, 3, [1, "a"], {"k": {1}})
            input.user == "alice"
        }
        """
        let r = try printed("data.t.allow", [m], input: #"{"user": "alice"}"#)
        #expect(r.results == 1)
        #expect(r.lines == [#"user alice 3 [1, "a"] {"k": {1}}"#])
    }

    @Test("an undefined operand prints <undefined> and does not stop the body")
    func undefinedOperand() throws {
        let m = """
        package t
        p if {
            print("missing:", input.nope)
            true
        }
        """
        let r = try printed("data.t.p", [m], input: "{}")
        #expect(r.results == 1)
        #expect(r.lines == ["missing: <undefined>"])
    }

    @Test("print in a query and in a loop prints once per solution")
    func printInLoops() throws {
        let r = try printed("some x in [1, 2]; print(x)")
        #expect(r.results == 2)
        #expect(r.lines == ["1", "2"])
    }

    @Test("print of an unbound variable is unsafe")
    func unsafeOperand() throws {
        #expect(throws: PolicyError.self) { try printed("print(y)") }
    }
}

@Suite("Prepared queries")
struct PreparedQueryTests {
    static let module = """
    package t
    names contains n if { some u in input.users; n := upper(u) }
    first := x if { some i, x in input.users; i == 0 }
    count_of(xs) := n if n := count(xs)
    summary := {"names": names, "first": first, "count": count_of(input.users)}
    """

    @Test("evaluations reuse frames without carrying bindings from one to the next, on any thread")
    func repeatedAndConcurrent() throws {
        let query = try CompiledPolicy(sources: [PolicySource(file: "t.rego", text: Self.module)]).prepare("data.t.summary")
        let inputs: [Value] = [#"{"users": ["a", "b"]}"#, #"{"users": ["c"]}"#, #"{"users": []}"#].map { try! Value(json: $0) }
        let expected = try inputs.map { try query.evaluate(input: $0).first?.expressions.first }
        #expect(expected[1] == (try CompiledPolicy.value(ofTerm: #"{"names": {"C"}, "first": "c", "count": 1}"#)))
        // No user, no `first`: the summary is undefined, whatever the evaluation before bound.
        #expect(expected[2] == nil)
        let mismatches = PrintedLines()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for i in 0..<200 {
                let k = (worker + i) % inputs.count
                let got = try? query.evaluate(input: inputs[k]).first?.expressions.first
                if got != expected[k] { mismatches.append("worker \(worker) input \(k)") }
            }
        }
        #expect(mismatches.lines.isEmpty)
    }
}
