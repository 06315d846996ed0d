import BigInt
import Foundation

/// Options for one evaluation.
public struct EvaluationOptions: Sendable {
    /// Builtin errors stop evaluation (`eval_type_error`, `eval_builtin_error`) instead of
    /// making the expression undefined.
    public var strictBuiltinErrors: Bool
    /// Upper bound on evaluated expressions; past it evaluation fails with `eval_budget_error`.
    public var stepLimit: Int
    /// Upper bound on wall time, checked every 1,024 steps.
    public var timeout: Duration?
    /// The instant `time.now_ns` reports; the current time when nil.
    public var nowNanoseconds: BigInt?
    /// Receives each line `print(...)` wrote, in order, when the evaluation ends (also when
    /// it fails). Without one, print statements still run and their output is dropped.
    public var printHandler: (@Sendable (String) -> Void)?

    public init(strictBuiltinErrors: Bool = false, stepLimit: Int = 50_000_000, timeout: Duration? = nil,
                nowNanoseconds: BigInt? = nil, printHandler: (@Sendable (String) -> Void)? = nil) {
        self.strictBuiltinErrors = strictBuiltinErrors
        self.stepLimit = stepLimit
        self.timeout = timeout
        self.nowNanoseconds = nowNanoseconds
        self.printHandler = printHandler
    }
}

/// One solution of a query: the value of each expression and the query's variable bindings.
public struct QueryResult: Sendable {
    /// One value per query expression (`true` for unifications and assignments).
    public var expressions: [Value]
    /// The query's named variables, in order of first appearance.
    public var bindings: [(name: String, value: Value)]
}

/// A policy source file.
public struct PolicySource: Sendable {
    /// The file name used in error locations.
    public var file: String
    /// The Rego text.
    public var text: String

    public init(file: String, text: String) {
        self.file = file
        self.text = text
    }
}

/// Rego modules and base data, parsed and compiled once; prepare queries against it and
/// evaluate them many times (from any thread).
///
///     let policy = try CompiledPolicy(sources: [PolicySource(file: "a.rego", text: rego)], data: data)
///     let query = try policy.prepare("data.warden.decision")
///     let results = try query.evaluate(input: input)
public final class CompiledPolicy: Sendable {
    let root: RuleNode
    /// How many rule nodes the tree has (see `RuleNode.numberNodes`).
    let nodeCount: Int
    /// The base documents under `data`.
    public let data: Value
    /// The builtins available to the policy.
    public let builtins: BuiltinRegistry

    /// Parses and compiles; throws the first `PolicyError` (parse or compile) found.
    public init(sources: [PolicySource], data: Value = .emptyObject, builtins: BuiltinRegistry = .standard) throws {
        let modules = try sources.map { try Parser.parseModule($0.text, file: $0.file) }
        var compiler = Compiler(builtins: builtins)
        self.root = try compiler.compile(modules)
        self.data = data
        self.builtins = builtins
        root.computeDocuments()
        self.nodeCount = root.numberNodes()
        DocumentRefResolver(root: root).resolveAll()
    }

    /// Checks sources and returns every error found (one per file at most), without stopping at the first file.
    public static func check(sources: [PolicySource], builtins: BuiltinRegistry = .standard) -> [PolicyError] {
        var errors: [PolicyError] = []
        var modules: [Module] = []
        for s in sources {
            do { modules.append(try Parser.parseModule(s.text, file: s.file)) } catch let e as PolicyError { errors.append(e) } catch {
                errors.append(PolicyError("rego_parse_error", "\(error)", at: nil))
            }
        }
        if errors.isEmpty {
            var compiler = Compiler(builtins: builtins)
            do { _ = try compiler.compile(modules) } catch let e as PolicyError { errors.append(e) } catch {
                errors.append(PolicyError("rego_compile_error", "\(error)", at: nil))
            }
        }
        return errors
    }

    /// The value of a Rego term written as source (`{1, 2}`, `{"a": set()}`), for inputs JSON
    /// cannot express. Throws when it does not evaluate to exactly one value.
    public static func value(ofTerm text: String) throws -> Value {
        let query = try CompiledPolicy(sources: []).prepare("term_value := (\n\(text)\n)")
        let results = try query.evaluate()
        guard results.count == 1, let v = results[0].bindings.first?.value else {
            throw PolicyError("rego_parse_error", "input term must have exactly one value")
        }
        return v
    }

    /// Parses and compiles a query once.
    public func prepare(_ query: String) throws -> PreparedQuery {
        let body = try Parser.parseQuery(query)
        let compiler = Compiler(builtins: builtins, root: root)
        let compiled = try compiler.compileQuery(body)
        return PreparedQuery(policy: self, body: DocumentRefResolver(root: root).body(compiled.body), frameSize: compiled.frameSize,
                             variables: compiled.variables, text: query, expressionCount: body.count)
    }

    /// The names of the rules under `data` whose last segment starts with `test_`, sorted; for `warden policy test`.
    public func testRulePaths() -> [[String]] {
        var out: [[String]] = []
        func visit(_ n: RuleNode) {
            if let last = n.path.last, last.hasPrefix("test_"), n.hasRules, !n.isFunction { out.append(n.path) }
            for c in n.children.values { visit(c) }
        }
        visit(root)
        return out.sorted { $0.joined(separator: ".") < $1.joined(separator: ".") }
    }
}

/// A query compiled against a policy, ready to evaluate many times.
public final class PreparedQuery: Sendable {
    let policy: CompiledPolicy
    let body: Body
    let frameSize: Int
    let variables: [(String, Int)]
    /// The query text.
    public let text: String
    let expressionCount: Int
    /// Frames reused from one evaluation to the next.
    let framePools = FramePools()

    init(policy: CompiledPolicy, body: Body, frameSize: Int, variables: [(String, Int)], text: String, expressionCount: Int) {
        self.policy = policy
        self.body = body
        self.frameSize = frameSize
        self.variables = variables
        self.text = text
        self.expressionCount = expressionCount
    }

    /// All solutions; empty when the query is undefined. Throws `PolicyError` on evaluation errors
    /// (conflicts, strict builtin errors, budgets).
    public func evaluate(input: Value? = nil, options: EvaluationOptions = EvaluationOptions()) throws -> [QueryResult] {
        let context = BuiltinContext(nowNanoseconds: options.nowNanoseconds, strictErrors: options.strictBuiltinErrors)
        let deadline = options.timeout.map { d -> Date in
            let (s, atto) = d.components
            return Date().addingTimeInterval(Double(s) + Double(atto) / 1e18)
        }
        let pool = framePools.take()
        defer { framePools.give(pool) }
        let evaluator = Evaluator(root: policy.root, nodeCount: policy.nodeCount, baseData: policy.data, input: input, context: context,
                                  stepLimit: options.stepLimit, deadline: deadline, frames: pool)
        defer {
            if let handler = options.printHandler { context.printed.forEach(handler) }
        }
        let frame = evaluator.takeFrame(frameSize)
        defer { evaluator.recycle(frame) }
        var results: [QueryResult] = []
        var exprValues = Array(repeating: Value.bool(true), count: body.count)
        func run(_ i: Int) throws {
            if i == body.count {
                let bindings = variables.compactMap { v -> (name: String, value: Value)? in
                    guard let value = frame[v.1] else { return nil }
                    return (v.0, value)
                }
                results.append(QueryResult(expressions: exprValues, bindings: bindings))
                return
            }
            let e = body[i]
            if case .term(let t) = e.kind, !e.negated, e.withs.isEmpty, !Self.isCallWithOutput(t, evaluator) {
                try evaluator.tick(e.location)
                try evaluator.evalTerm(t, frame) { v in
                    if case .bool(false) = v { return }
                    exprValues[i] = v
                    try run(i + 1)
                }
            } else {
                exprValues[i] = .bool(true)
                try evaluator.evalExpr(e, frame) { try run(i + 1) }
            }
        }
        try run(0)
        return results
    }

    static func isCallWithOutput(_ t: Term, _ e: Evaluator) -> Bool {
        if case .resolvedCall(let target, let args, _) = t { return args.count == e.arity(of: target) + 1 }
        return false
    }
}

extension RuleNode {
    /// Precomputes `hasDocuments` bottom-up so reads are thread-safe.
    func computeDocuments() {
        for c in children.values { c.computeDocuments() }
        _ = hasDocuments
    }

    /// Gives every node below (and this one) its `index`; returns how many there are.
    func numberNodes() -> Int {
        var next = 0
        func visit(_ n: RuleNode) {
            n.index = next
            n.computeShape()
            next += 1
            for c in n.children.values { visit(c) }
        }
        visit(self)
        return next
    }
}

extension Value {
    /// Deep-merges objects (the right side wins elsewhere); for loading several data files.
    public func merging(_ other: Value) -> Value {
        guard case .object(var a) = self, case .object(let b) = other else { return other }
        for (k, v) in b {
            if let existing = a[k] { a.set(k, existing.merging(v)) } else { a.set(k, v) }
        }
        return .object(a)
    }
}
