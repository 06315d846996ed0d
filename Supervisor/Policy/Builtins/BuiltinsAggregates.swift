/// `sum`, `product`, `max`, `min` and `sort` over arrays and sets (`count` is a core operator).
extension BuiltinRegistry {
    static let aggregateBuiltins: [Builtin] = [
        Builtin("sum", arity: 1) { args, _ in
            let numbers = try numbersOperand(args)
            if numbers.allSatisfy(\.isInteger) { return .number(numbers.reduce(Number(0), +)) }
            return .number(try exactFold(numbers, start: ExactDecimal(0), +))
        },
        Builtin("product", arity: 1) { args, _ in
            let numbers = try numbersOperand(args)
            if numbers.allSatisfy(\.isInteger) { return .number(numbers.reduce(Number(1), *)) }
            return .number(try exactFold(numbers, start: ExactDecimal(1), *))
        },
        Builtin("max", arity: 1) { args, _ in
            let items = try args.arrayOrSet(0)
            return items.max()
        },
        Builtin("min", arity: 1) { args, _ in
            let items = try args.arrayOrSet(0)
            return items.min()
        },
        Builtin("sort", arity: 1) { args, _ in
            switch args[0] {
            case .array(let a): return .array(a.sorted())
            case .set(let s): return .array(s.elements)
            default: throw BuiltinError.operand(1, expectedOneOf: ["set", "array"], got: args[0])
            }
        },
    ]

    /// The numbers of an array or set operand.
    static func numbersOperand(_ args: [Value]) throws -> [Number] {
        try args.arrayOrSet(0).map { item in
            guard case .number(let n) = item else { throw BuiltinError.operandElement(1, of: args[0], got: item, expected: "number") }
            return n
        }
    }

    /// Folds numbers in exact decimal arithmetic, so `sum([0.1, 0.2])` is `0.3` as in OPA
    /// (whose numbers are arbitrary precision), not the binary `0.30000000000000004`.
    static func exactFold(_ numbers: [Number], start: ExactDecimal, _ combine: (ExactDecimal, ExactDecimal) -> ExactDecimal) throws -> Number {
        var acc = start
        for n in numbers {
            guard let d = ExactDecimal(n) else { throw BuiltinError.evaluation("number out of range") }
            acc = combine(acc, d)
        }
        return acc.number
    }
}

/// `array.concat`, `array.slice`, `array.reverse`, `array.flatten`.
extension BuiltinRegistry {
    static let arrayBuiltins: [Builtin] = [
        Builtin("array.concat", arity: 2) { args, _ in
            .array(try args.array(0) + args.array(1))
        },
        Builtin("array.slice", arity: 3) { args, _ in
            let a = try args.array(0)
            var start = try args.integer(1)
            var stop = try args.integer(2)
            if start < 0 { start = 0 }
            if stop > a.count { stop = a.count }
            guard start < stop else { return .array([]) }
            return .array(Array(a[start..<stop]))
        },
        Builtin("array.reverse", arity: 1) { args, _ in
            .array(try args.array(0).reversed())
        },
        Builtin("array.flatten", arity: 1) { args, _ in
            var out: [Value] = []
            for item in try args.array(0) {
                if case .array(let inner) = item { out.append(contentsOf: inner) } else { out.append(item) }
            }
            return .array(out)
        },
    ]
}

/// The n-ary `union` and `intersection` over a set of sets.
extension BuiltinRegistry {
    static let setBuiltins: [Builtin] = [
        Builtin("union", arity: 1) { args, _ in
            var result = RegoSet()
            for s in try setsOperand(args) { result = result.union(s) }
            return .set(result)
        },
        Builtin("intersection", arity: 1) { args, _ in
            let sets = try setsOperand(args)
            guard var result = sets.first else { return .set(RegoSet()) }
            for s in sets.dropFirst() { result = result.intersection(s) }
            return .set(result)
        },
    ]

    static func setsOperand(_ args: [Value]) throws -> [RegoSet] {
        try args.set(0).elements.map { item in
            guard case .set(let s) = item else { throw BuiltinError.operandElement(1, of: args[0], got: item, expected: "set") }
            return s
        }
    }
}
