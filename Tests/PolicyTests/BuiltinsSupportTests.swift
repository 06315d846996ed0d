import Testing
@testable import Policy

/// Calls a builtin of `BuiltinRegistry.standard` directly, outside the evaluator.
func callBuiltin(_ name: String, _ args: Value..., now: Int = 0) throws -> Value? {
    guard let builtin = BuiltinRegistry.standard[name], let function = builtin.function else {
        throw BuiltinError.evaluation("no builtin named \(name)")
    }
    #expect(builtin.arity == args.count, "\(name) takes \(builtin.arity) operands")
    return try function(args, BuiltinContext(nowNanoseconds: .init(now)))
}

/// The error a builtin call throws, or nil when it succeeds.
func builtinError(_ name: String, _ args: Value...) -> BuiltinError? {
    guard let builtin = BuiltinRegistry.standard[name], let function = builtin.function else {
        return BuiltinError.evaluation("no builtin named \(name)")
    }
    do {
        _ = try function(args, BuiltinContext(nowNanoseconds: 0))
        return nil
    } catch let e as BuiltinError {
        return e
    } catch {
        return BuiltinError.evaluation("unexpected error \(error)")
    }
}

func set(_ items: Value...) -> Value { .set(RegoSet(items)) }
func object(_ pairs: (Value, Value)...) -> Value { .object(RegoObject(pairs)) }

@Suite("Builtin support: Go text semantics")
struct BuiltinsSupportTests {
    @Test("invalid UTF-8 decodes one byte at a time, as Go counts runes")
    func goDecoding() {
        #expect(GoText.string(fromBytes: [0x61, 0xE2, 0x82]).unicodeScalars.count == 3)
        #expect(GoText.string(fromBytes: [0xE0, 0x80]).unicodeScalars.count == 2)
        #expect(GoText.string(fromBytes: Array("héllo".utf8)) == "héllo")
    }

    @Test("every library builtin is registered once under its OPA name")
    func catalog() {
        let names = BuiltinRegistry.libraryGroups.flatMap { $0.map(\.name) }
        #expect(Set(names).count == names.count)
        for name in ["concat", "sprintf", "regex.match", "glob.match", "sum", "object.get", "time.now_ns",
                     "net.cidr_contains", "json.marshal", "base64.decode", "units.parse_bytes", "type_name"] {
            #expect(BuiltinRegistry.standard[name] != nil, "\(name)")
        }
    }
}
