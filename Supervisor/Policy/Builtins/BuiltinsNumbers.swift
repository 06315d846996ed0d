import BigInt

/// `abs`, `round`, `ceil`, `floor`, `numbers.range`, `numbers.range_step`, `to_number`
/// and the `bits.*` family (on integers of any size, two's complement like Go's big.Int).
extension BuiltinRegistry {
    /// The longest array `numbers.range` builds; beyond it the call fails instead of
    /// exhausting memory (the evaluation budget could not interrupt one builtin call).
    static let maximumRangeLength = 10_000_000

    static let numberBuiltins: [Builtin] = [
        Builtin("abs", arity: 1) { args, _ in .number(try args.number(0).magnitude) },
        Builtin("round", arity: 1) { args, _ in .number(roundNumber(try args.number(0), .toNearestOrAwayFromZero)) },
        Builtin("ceil", arity: 1) { args, _ in .number(roundNumber(try args.number(0), .up)) },
        Builtin("floor", arity: 1) { args, _ in .number(roundNumber(try args.number(0), .down)) },
        Builtin("numbers.range", arity: 2) { args, _ in
            .array(try integerRange(from: try args.bigInteger(0), to: try args.bigInteger(1), step: 1))
        },
        Builtin("numbers.range_step", arity: 3) { args, _ in
            let from = try args.bigInteger(0), to = try args.bigInteger(1), step = try args.bigInteger(2)
            guard step > 0 else { throw BuiltinError.evaluation("step must be a positive integer") }
            return .array(try integerRange(from: from, to: to, step: step))
        },
        Builtin("to_number", arity: 1) { args, _ in
            switch args[0] {
            case .null: return Value(0)
            case .bool(let b): return Value(b ? 1 : 0)
            case .number: return args[0]
            case .string(let s):
                let lowered = s.lowercased().drop { $0 == "+" || $0 == "-" }
                if ["nan", "inf", "infinity"].contains(String(lowered)) {
                    throw BuiltinError.operand(1, expected: "valid number string", got: args[0])
                }
                guard Double(s) != nil, let n = Number(parsing: s) else {
                    throw BuiltinError.evaluation("strconv.ParseFloat: parsing \(GoFormatter.quote(s)): invalid syntax")
                }
                return .number(n)
            default:
                throw BuiltinError.operand(1, expectedOneOf: ["null", "boolean", "number", "string"], got: args[0])
            }
        },
        Builtin("bits.and", arity: 2) { args, _ in .number(Number(try args.bigInteger(0) & args.bigInteger(1))) },
        Builtin("bits.or", arity: 2) { args, _ in .number(Number(try args.bigInteger(0) | args.bigInteger(1))) },
        Builtin("bits.xor", arity: 2) { args, _ in .number(Number(try args.bigInteger(0) ^ args.bigInteger(1))) },
        Builtin("bits.negate", arity: 1) { args, _ in .number(Number(-(try args.bigInteger(0)) - 1)) },
        Builtin("bits.lsh", arity: 2) { args, _ in
            let x = try args.bigInteger(0)
            return .number(Number(x << (try shiftAmount(args))))
        },
        Builtin("bits.rsh", arity: 2) { args, _ in
            let x = try args.bigInteger(0)
            let s = try shiftAmount(args)
            // Arithmetic shift (floor division by 2^s), as Go's big.Int.Rsh.
            if x >= 0 { return .number(Number(x >> s)) }
            return .number(Number(-((-x - 1) >> s) - 1))
        },
    ]

    static func shiftAmount(_ args: [Value]) throws -> Int {
        let s = try args.bigInteger(1)
        guard s >= 0 else { throw BuiltinError.operandMessage(2, "must be an unsigned integer number but got a negative integer") }
        guard let v = Int(exactly: s), v <= 1 << 20 else { throw BuiltinError.evaluation("shift amount too large") }
        return v
    }

    static func roundNumber(_ n: Number, _ rule: FloatingPointRoundingRule) -> Number {
        if n.isInteger { return n }
        return Number(n.double.rounded(rule))
    }

    static func integerRange(from: BigInt, to: BigInt, step: BigInt) throws -> [Value] {
        let span = (to - from).magnitude / step.magnitude
        guard span < BigUInt(maximumRangeLength) else { throw BuiltinError.evaluation("range of \(span + 1) numbers is too large") }
        var out: [Value] = []
        out.reserveCapacity(Int(span) + 1)
        var x = from
        if from <= to {
            while x <= to { out.append(.number(Number(x))); x += step }
        } else {
            while x >= to { out.append(.number(Number(x))); x -= step }
        }
        return out
    }
}

/// `is_number` … `is_null` (always true or false, never undefined) and `type_name`.
extension BuiltinRegistry {
    static let typeBuiltins: [Builtin] = [
        Builtin("is_number", arity: 1) { args, _ in Value(args[0].typeName == "number") },
        Builtin("is_string", arity: 1) { args, _ in Value(args[0].typeName == "string") },
        Builtin("is_boolean", arity: 1) { args, _ in Value(args[0].typeName == "boolean") },
        Builtin("is_array", arity: 1) { args, _ in Value(args[0].typeName == "array") },
        Builtin("is_set", arity: 1) { args, _ in Value(args[0].typeName == "set") },
        Builtin("is_object", arity: 1) { args, _ in Value(args[0].typeName == "object") },
        Builtin("is_null", arity: 1) { args, _ in Value(args[0].typeName == "null") },
        Builtin("type_name", arity: 1) { args, _ in .string(args[0].typeName) },
    ]
}
