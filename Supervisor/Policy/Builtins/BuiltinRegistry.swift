import BigInt
import Foundation

/// Why a builtin call failed. The evaluator prefixes the builtin's name, so a
/// `BuiltinError.operand(1, expected: "string", got: v)` from `strings.replace_n` reads
/// `eval_type_error: strings.replace_n: operand 1 must be string but got number`.
///
/// Without strict builtin errors, a `.type` or `.evaluation` failure makes the expression
/// undefined, as in OPA; `.halt` always stops evaluation.
public struct BuiltinError: Error, Sendable, Equatable {
    /// What kind of failure, which picks OPA's error code.
    public enum Kind: Sendable, Equatable {
        /// An operand of the wrong type: `eval_type_error`.
        case type
        /// The builtin could not compute a result (bad format, divide by zero): `eval_builtin_error`.
        case evaluation
        /// Stops evaluation even without strict errors, with the given code.
        case halt(code: String)
    }

    /// What kind of failure.
    public let kind: Kind
    /// The message without the builtin's name, e.g. `"operand 1 must be string but got number"`.
    public let message: String

    /// A failure of the given kind and message.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// `eval_type_error` with a free message.
    public static func type(_ message: String) -> BuiltinError { BuiltinError(.type, message) }

    /// `eval_builtin_error` with a free message, e.g. `.evaluation("divide by zero")`.
    public static func evaluation(_ message: String) -> BuiltinError { BuiltinError(.evaluation, message) }

    /// OPA's operand type error: `operand 1 must be string but got number`.
    /// `position` counts from 1; `expected` is a type name or a phrase such as `"one of {set, array}"`.
    public static func operand(_ position: Int, expected: String, got value: Value) -> BuiltinError {
        BuiltinError(.type, "operand \(position) must be \(expected) but got \(value.typeName)")
    }

    /// OPA's code for this failure: `eval_type_error`, `eval_builtin_error`, or the halt code.
    public var code: String {
        switch kind {
        case .type: return "eval_type_error"
        case .evaluation: return "eval_builtin_error"
        case .halt(let code): return code
        }
    }
}

/// What a builtin may know about the evaluation calling it. One context lives for one
/// evaluation (one query), so `time.now_ns` answers the same instant throughout.
public final class BuiltinContext {
    /// Nanoseconds since the Unix epoch, fixed for the whole evaluation (`time.now_ns`): read
    /// from the clock at first use, so evaluations that never ask pay nothing.
    public private(set) lazy var nowNanoseconds: BigInt = BigInt(Int64(Date().timeIntervalSince1970 * 1_000_000_000))
    /// True when builtin errors stop evaluation instead of making the expression undefined.
    public let strictErrors: Bool
    /// Per-evaluation memory for builtins that must answer the same within one query
    /// (e.g. `rand.intn`); key it by builtin name and operands.
    public var cache: [String: Value] = [:]
    /// Lines printed by `print`, in order.
    public var printed: [String] = []

    /// A context; by default the current time and non-strict errors.
    public init(nowNanoseconds: BigInt? = nil, strictErrors: Bool = false) {
        self.strictErrors = strictErrors
        if let now = nowNanoseconds { self.nowNanoseconds = now }
    }
}

/// A builtin's body: operands in, a value out, `nil` for undefined, or throw `BuiltinError`.
public typealias BuiltinFunction = @Sendable (_ operands: [Value], _ context: BuiltinContext) throws -> Value?

/// A relation builtin's body (like `walk`): every result it yields; empty means undefined.
public typealias BuiltinRelation = @Sendable (_ operands: [Value], _ context: BuiltinContext) throws -> [Value]

/// One builtin function, e.g.
///
///     Builtin("strings.replace_n", arity: 2) { args, _ in
///         let patterns = try args.object(0)
///         let text = try args.string(1)
///         ...
///         return .string(result)
///     }
///
/// `arity` counts operands (not the output). In Rego the call may also be written with the
/// output as an extra last argument (`count(x, n)`); the evaluator handles that.
///
/// A class, so that compiled calls share one instance: the evaluator copies call terms often,
/// and copying a reference is one retain where the fields would be several.
public final class Builtin: Sendable {
    /// The dotted name as policies call it: `"count"`, `"strings.replace_n"`.
    public let name: String
    /// The number of operands.
    public let arity: Int
    /// The body of an ordinary builtin.
    public let function: BuiltinFunction?
    /// The body of a relation builtin (several results), when this is one.
    public let relation: BuiltinRelation?
    /// True when results may differ between calls with equal operands (time, random, http):
    /// the evaluator never caches these across evaluations.
    public let isNondeterministic: Bool

    /// An ordinary builtin.
    public init(_ name: String, arity: Int, nondeterministic: Bool = false, _ function: @escaping BuiltinFunction) {
        self.name = name
        self.arity = arity
        self.function = function
        self.relation = nil
        self.isNondeterministic = nondeterministic
    }

    /// A relation builtin that yields several results (each binds the output in turn).
    public init(relation name: String, arity: Int, _ relation: @escaping BuiltinRelation) {
        self.name = name
        self.arity = arity
        self.function = nil
        self.relation = relation
        self.isNondeterministic = false
    }
}

/// The table of builtins by name. `BuiltinRegistry.standard` holds every builtin Warden ships.
///
/// To add builtins: write a file in `Supervisor/Policy/Builtins/` that declares
/// `extension BuiltinRegistry { static let stringBuiltins: [Builtin] = [ ... ] }`
/// and list that array in `libraryGroups` (`BuiltinCatalog.swift`). An embedder can also
/// copy `standard` and `register` its own (a later one replaces a same-named earlier one).
public struct BuiltinRegistry: Sendable {
    private var table: [String: Builtin] = [:]

    /// An empty registry.
    public init() {}

    /// A registry holding the given builtins.
    public init(_ builtins: [Builtin]) {
        for b in builtins { register(b) }
    }

    /// Every builtin Warden ships: the evaluator's core operators and the library.
    public static let standard: BuiltinRegistry = {
        var registry = BuiltinRegistry(coreBuiltins)
        for group in libraryGroups { for b in group { registry.register(b) } }
        return registry
    }()

    /// Adds or replaces a builtin.
    public mutating func register(_ builtin: Builtin) { table[builtin.name] = builtin }

    /// The builtin of that name, if any.
    public subscript(name: String) -> Builtin? { table[name] }

    /// All names, sorted.
    public var names: [String] { table.keys.sorted() }
}

// MARK: - Operand helpers

extension Array where Element == Value {
    /// Operand `i` (from 0) as a string, or OPA's type error naming operand `i + 1`.
    public func string(_ i: Int) throws -> String {
        if case .string(let s) = self[i] { return s }
        throw BuiltinError.operand(i + 1, expected: "string", got: self[i])
    }

    /// Operand `i` as a number.
    public func number(_ i: Int) throws -> Number {
        if case .number(let n) = self[i] { return n }
        throw BuiltinError.operand(i + 1, expected: "number", got: self[i])
    }

    /// Operand `i` as an integer that fits `Int`; a non-integral number is an `eval_builtin_error`
    /// ("operand 2 must be integer number but got floating-point number"), as in OPA.
    public func int(_ i: Int) throws -> Int {
        let n = try number(i)
        guard n.isInteger else {
            throw BuiltinError.operand(i + 1, expected: "integer", got: self[i])
        }
        guard let v = n.int else { throw BuiltinError.evaluation("operand \(i + 1) out of range") }
        return v
    }

    /// Operand `i` as a boolean.
    public func bool(_ i: Int) throws -> Bool {
        if case .bool(let b) = self[i] { return b }
        throw BuiltinError.operand(i + 1, expected: "boolean", got: self[i])
    }

    /// Operand `i` as an array.
    public func array(_ i: Int) throws -> [Value] {
        if case .array(let a) = self[i] { return a }
        throw BuiltinError.operand(i + 1, expected: "array", got: self[i])
    }

    /// Operand `i` as an object.
    public func object(_ i: Int) throws -> RegoObject {
        if case .object(let o) = self[i] { return o }
        throw BuiltinError.operand(i + 1, expected: "object", got: self[i])
    }

    /// Operand `i` as a set.
    public func set(_ i: Int) throws -> RegoSet {
        if case .set(let s) = self[i] { return s }
        throw BuiltinError.operand(i + 1, expected: "set", got: self[i])
    }
}
