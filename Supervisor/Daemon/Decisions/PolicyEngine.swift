import Foundation
import NIOConcurrencyHelpers
import Policy

/// The loaded decision policy: `data.warden.decision` compiled from the policy
/// directory. A reload compiles the new files beside the old ones and swaps
/// only when they compile, so a broken file never leaves the daemon without
/// rules, and calls in flight finish on the version they started with.
public final class PolicyEngine: Sendable {
    public static let query = "data.warden.decision"

    /// What is loaded now, for health, `policy reload` and the audit log.
    public struct Summary: Codable, Sendable, Equatable {
        public var directory: String
        public var files: [String]
        /// SHA-256 of the files' names and contents: equal digests, equal policies.
        public var digest: String
        public var loadedAt: Date

        enum CodingKeys: String, CodingKey {
            case directory, files, digest
            case loadedAt = "loaded_at"
        }
    }

    struct Loaded: Sendable {
        var query: PreparedQuery
        var summary: Summary
        /// Whether any rule mentions `usage`: if none does, a call need not read its counters for the input.
        var readsUsage: Bool
        /// The files as read, kept to recompile when the plans change.
        var bundle: PolicyBundle
    }

    public let directory: String
    let options: EvaluationOptions
    private let current: NIOLockedValueBox<Loaded>
    /// Serialises reloads (SIGHUP and the admin API may race); evaluation never waits on it.
    private let reloading = NIOLock()
    /// `data.plans` from the store, laid over the files' data.
    private let plans = NIOLockedValueBox<Value?>(nil)

    /// Loads the directory; throws `PolicyReloadError` when it does not compile.
    public init(directory: String, stepLimit: Int, timeout: Duration) throws {
        self.directory = directory
        options = EvaluationOptions(strictBuiltinErrors: false, stepLimit: stepLimit, timeout: timeout)
        current = NIOLockedValueBox(try Self.compile(try Self.read(directory), directory: directory, plans: nil))
    }

    public var summary: Summary { current.withLockedValue { $0.summary } }

    /// False when no loaded file mentions `usage` outside whole-line comments (so
    /// `input.usage` cannot be read; a conservative test on the text).
    public var readsUsage: Bool { current.withLockedValue { $0.readsUsage } }

    /// Compiles the directory again and swaps it in; the old policies stay on failure.
    @discardableResult
    public func reload() throws -> Summary {
        try reloading.withLock {
            let loaded = try Self.compile(try Self.read(directory), directory: directory, plans: plans.withLockedValue { $0 })
            current.withLockedValue { $0 = loaded }
            return loaded.summary
        }
    }

    /// The plans the policies see now.
    var publishedPlans: Value? { plans.withLockedValue { $0 } }

    /// Recompiles the loaded files with new plans (after `warden plan` edits).
    public func setPlans(_ value: Value) throws {
        try reloading.withLock {
            plans.withLockedValue { $0 = value }
            let bundle = current.withLockedValue { $0.bundle }
            let loaded = try Self.compile(bundle, directory: directory, plans: value)
            current.withLockedValue { $0 = loaded }
        }
    }

    /// Evaluates the decision for one call. Never throws: anything that goes
    /// wrong is a deny (fail closed) whose reason says what went wrong.
    public func decide(_ input: Value) -> Decision {
        let query = current.withLockedValue { $0.query }
        let results: [QueryResult]
        do {
            results = try query.evaluate(input: input, options: options)
        } catch let error as PolicyError {
            return Decision(outcome: .error, reasons: ["policy evaluation failed: \(error.message) (\(error.code))"])
        } catch {
            return Decision(outcome: .error, reasons: ["policy evaluation failed: \(error)"])
        }
        guard let value = results.first?.expressions.first else {
            return Decision(outcome: .error, reasons: ["the policy gives no decision: \(Self.query) is undefined"])
        }
        return Decision(value)
    }

    static func read(_ directory: String) throws -> PolicyBundle {
        let bundle: PolicyBundle
        do {
            bundle = try PolicyBundle(paths: [directory], including: Self.isDecisionPolicyFile)
        } catch let error as PolicyLoadError {
            throw PolicyReloadError(errors: [.init(file: error.path, row: nil, col: nil, message: error.message)])
        }
        guard !bundle.sources.isEmpty else {
            throw PolicyReloadError(errors: [.init(file: directory, row: nil, col: nil, message: "no .rego files found")])
        }
        return bundle
    }

    static func compile(_ files: PolicyBundle, directory: String, plans: Value?) throws -> Loaded {
        let errors = CompiledPolicy.check(sources: files.sources)
        if !errors.isEmpty { throw PolicyReloadError(errors) }
        var bundle = files
        if let plans { bundle.data = bundle.data.merging(.object(RegoObject(["plans": plans]))) }
        let query: PreparedQuery
        do {
            query = try bundle.compile().prepare(Self.query)
        } catch let error as PolicyError {
            throw PolicyReloadError([error])
        }
        var hasher = SHA256Hasher()
        for source in bundle.sources {
            hasher.update(source.file)
            hasher.update(source.text)
        }
        hasher.update(bundle.data.jsonText())
        let summary = Summary(directory: directory, files: bundle.sources.map(\.file), digest: hasher.hex(),
                              loadedAt: Date())
        return Loaded(query: query, summary: summary,
                      readsUsage: files.sources.contains { Self.mentionsUsage($0.text) }, bundle: files)
    }

    /// Any line but a whole-line comment that says `usage`.
    static func mentionsUsage(_ text: String) -> Bool {
        text.split(separator: "\n").contains { line in
            !line.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("#") && line.contains("usage")
        }
    }

    /// The daemon loads rules and data, not tests or seccomp profiles.
    @Sendable static func isDecisionPolicyFile(_ path: String) -> Bool {
        if path.contains("/seccomp/") { return false }
        if path.hasSuffix("_test.rego") { return false }
        return path.hasSuffix(".rego") || path.hasSuffix(".json")
    }
}

/// Policy files that did not load, with file:line:col for each error.
public struct PolicyReloadError: Error, Sendable, CustomStringConvertible, Codable {
    public struct Problem: Sendable, Codable, Equatable {
        public var file: String
        public var row: Int?
        public var col: Int?
        public var message: String

        public var text: String {
            let place = [file, row.map(String.init), col.map(String.init)].compactMap { $0 }.joined(separator: ":")
            return "\(place): \(message)"
        }
    }

    public var errors: [Problem]

    public init(errors: [Problem]) { self.errors = errors }

    init(_ errors: [PolicyError]) {
        self.errors = errors.map { e in
            Problem(file: e.location?.file ?? "policy", row: e.location?.row, col: e.location?.col,
                    message: "\(e.message) (\(e.code))")
        }
    }

    public var description: String { errors.map(\.text).joined(separator: "\n") }
}
