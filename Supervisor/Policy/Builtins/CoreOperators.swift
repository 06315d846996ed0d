/// The operators the evaluator itself relies on: arithmetic, comparison, set operators,
/// membership (`in`) and `count`.
extension BuiltinRegistry {
    static let coreBuiltins: [Builtin] = arithmetic + comparisons + setOperators + [
        Builtin("count", arity: 1) { args, _ in
            switch args[0] {
            case .array(let a): return Value(a.count)
            case .object(let o): return Value(o.count)
            case .set(let s): return Value(s.count)
            case .string(let s): return Value(s.unicodeScalars.count)
            default: throw BuiltinError.operand(1, expected: "one of {array, object, set, string}", got: args[0])
            }
        },
        Builtin("internal.member_2", arity: 2) { args, _ in
            Value(isMember(args[0], of: args[1]))
        },
        Builtin("internal.member_3", arity: 3) { args, _ in
            let key = args[0], value = args[1]
            switch args[2] {
            case .array(let a):
                guard case .number(let n) = key, let i = n.int, i >= 0, i < a.count else { return false }
                return Value(a[i] == value)
            case .object(let o): return Value(o[key] == value)
            default: return false
            }
        },
    ]

    /// `x in c`: an element of an array or set, or a value of an object.
    static func isMember(_ x: Value, of collection: Value) -> Bool {
        switch collection {
        case .array(let a): return a.contains(x)
        case .set(let s): return s.contains(x)
        case .object(let o): return o.values.contains(x)
        default: return false
        }
    }

    private static func numbers(_ args: [Value]) throws -> (Number, Number) {
        (try args.number(0), try args.number(1))
    }

    static let arithmetic: [Builtin] = [
        Builtin("plus", arity: 2) { args, _ in
            let (a, b) = try numbers(args)
            return .number(a + b)
        },
        Builtin("minus", arity: 2) { args, _ in
            switch (args[0], args[1]) {
            case let (.number(a), .number(b)): return .number(a - b)
            case let (.set(a), .set(b)): return .set(a.subtracting(b))
            case (.number, _):
                throw BuiltinError.operand(2, expected: "number", got: args[1])
            case (.set, _):
                throw BuiltinError.operand(2, expected: "set", got: args[1])
            default:
                throw BuiltinError.operand(1, expected: "one of {number, set}", got: args[0])
            }
        },
        Builtin("mul", arity: 2) { args, _ in
            let (a, b) = try numbers(args)
            return .number(a * b)
        },
        Builtin("div", arity: 2) { args, _ in
            let (a, b) = try numbers(args)
            guard let q = a.divided(by: b) else { throw BuiltinError.evaluation("divide by zero") }
            return .number(q)
        },
        Builtin("rem", arity: 2) { args, _ in
            let (a, b) = try numbers(args)
            guard a.isInteger, b.isInteger else { throw BuiltinError.evaluation("modulo on floating-point number") }
            guard let r = a.remainder(dividingBy: b) else { throw BuiltinError.evaluation("modulo by zero") }
            return .number(r)
        },
    ]

    static let comparisons: [Builtin] = [
        Builtin("equal", arity: 2) { args, _ in Value(args[0] == args[1]) },
        Builtin("neq", arity: 2) { args, _ in Value(args[0] != args[1]) },
        Builtin("lt", arity: 2) { args, _ in Value(Value.compare(args[0], args[1]) < 0) },
        Builtin("lte", arity: 2) { args, _ in Value(Value.compare(args[0], args[1]) <= 0) },
        Builtin("gt", arity: 2) { args, _ in Value(Value.compare(args[0], args[1]) > 0) },
        Builtin("gte", arity: 2) { args, _ in Value(Value.compare(args[0], args[1]) >= 0) },
    ]

    static let setOperators: [Builtin] = [
        Builtin("or", arity: 2) { args, _ in
            .set(try args.set(0).union(try args.set(1)))
        },
        Builtin("and", arity: 2) { args, _ in
            .set(try args.set(0).intersection(try args.set(1)))
        },
    ]
}
