import Foundation

/// `json.verify_schema` and `json.match_schema`: JSON Schema (drafts 4 to 7) validation with
/// the error objects and texts of gojsonschema, which OPA uses. Supported keywords: `type`,
/// `enum`, `const`, `properties`, `required`, `additionalProperties`, `patternProperties`,
/// `minProperties`, `maxProperties`, `items` (one schema or a tuple), `additionalItems`,
/// `minItems`, `maxItems`, `uniqueItems`, `minLength`, `maxLength`, `pattern`, `minimum`,
/// `maximum`, `exclusiveMinimum`, `exclusiveMaximum` (both drafts' forms), `multipleOf`,
/// `allOf`, `anyOf`, `oneOf`, `not`, and local `$ref`s (`#`, `#/definitions/…`). `format`
/// is not checked.
extension BuiltinRegistry {
    static let jsonSchemaBuiltins: [Builtin] = [
        Builtin("json.verify_schema", arity: 1) { args, _ in
            do {
                _ = try JSONSchema.schemaOperand(args[0], position: 1)
                return .array([true, .null])
            } catch let e as JSONSchema.InvalidSchema {
                return .array([false, .string("jsonschema: " + e.message)])
            }
        },
        Builtin("json.match_schema", arity: 2) { args, _ in
            let document: Value
            switch args[0] {
            case .string(let s):
                do { document = try Value(json: s) } catch { throw BuiltinError.evaluation("document is not valid JSON: \(error)") }
            default: document = args[0]
            }
            let schema: Value
            do { schema = try JSONSchema.schemaOperand(args[1], position: 2) } catch let e as JSONSchema.InvalidSchema {
                throw BuiltinError.evaluation(e.message)
            }
            var validator = JSONSchema(root: schema)
            validator.validate(document, against: schema, path: [])
            return .array([Value(validator.errors.isEmpty), .array(validator.errors)])
        },
    ]
}

struct JSONSchema {
    struct InvalidSchema: Error { var message: String }

    static let primitiveTypes = ["array", "boolean", "integer", "number", "null", "object", "string"]

    /// A schema given as JSON text or as a value, checked for structural errors.
    static func schemaOperand(_ operand: Value, position: Int) throws -> Value {
        let schema: Value
        switch operand {
        case .string(let s):
            do { schema = try Value(json: s) } catch { throw InvalidSchema(message: "schema is not valid JSON: \(error)") }
        case .object, .bool: schema = operand
        default: throw BuiltinError.operand(position, expectedOneOf: ["string", "object"], got: operand)
        }
        try check(schema)
        return schema
    }

    /// Structural checks of a schema and its subschemas.
    static func check(_ schema: Value) throws {
        guard case .object(let o) = schema else {
            if case .bool = schema { return }
            throw InvalidSchema(message: "Invalid JSON schema: expected an object or a boolean")
        }
        if let type = o[string: "type"] {
            let names: [Value]
            switch type {
            case .string: names = [type]
            case .array(let a): names = a
            default: throw InvalidSchema(message: "Invalid type. Expected: string/array of strings, given: type")
            }
            for name in names {
                guard case .string(let s) = name, primitiveTypes.contains(s) else {
                    let given = name.stringValue ?? name.jsonText()
                    throw InvalidSchema(message: "has a primitive type that is NOT VALID -- given: /\(given)/ Expected valid values are:[\(primitiveTypes.joined(separator: " "))]")
                }
            }
        }
        for key in ["properties", "patternProperties", "definitions", "$defs"] {
            if case .object(let children)? = o[string: key] { for (_, child) in children { try check(child) } }
        }
        for key in ["additionalProperties", "additionalItems", "not", "items"] {
            if let child = o[string: key] {
                if case .array(let tuple) = child, key == "items" { for c in tuple { try check(c) } } else { try check(child) }
            }
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            if let list = o[string: key] {
                guard case .array(let items) = list, !items.isEmpty else { throw InvalidSchema(message: "\(key) must be a non-empty array") }
                for c in items { try check(c) }
            }
        }
        if let required = o[string: "required"] {
            guard case .array(let names) = required, names.allSatisfy({ $0.stringValue != nil }) else {
                throw InvalidSchema(message: "required must be an array of strings")
            }
        }
        if case .string(let pattern)? = o[string: "pattern"], (try? CompiledRegex.cached(pattern)) == nil {
            throw InvalidSchema(message: "Invalid regex pattern '\(pattern)'")
        }
    }

    let root: Value
    var errors: [Value] = []
    var depth = 0

    init(root: Value) { self.root = root }

    /// gojsonschema's type name of a value (integral numbers are "integer").
    static func typeName(_ v: Value) -> String {
        if case .number(let n) = v { return n.isInteger ? "integer" : "number" }
        return v.typeName == "set" ? "array" : v.typeName
    }

    mutating func report(_ path: [String], _ type: String, _ description: String) {
        let field = path.isEmpty ? "(root)" : path.joined(separator: ".")
        errors.append(.object(RegoObject([
            ("desc", .string(description)), ("error", .string(field + ": " + description)),
            ("field", .string(field)), ("type", .string(type)),
        ])))
    }

    /// Validates without recording errors (for anyOf, oneOf, not).
    func passes(_ value: Value, _ schema: Value, _ path: [String]) -> Bool {
        var probe = JSONSchema(root: root)
        probe.depth = depth
        probe.validate(value, against: schema, path: path)
        return probe.errors.isEmpty
    }

    func resolve(_ ref: String) -> Value? {
        guard ref.hasPrefix("#") else { return nil }
        var current = root
        for raw in ref.dropFirst().split(separator: "/") {
            let key = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            guard let next = current[key: .string(key)] ?? Int(key).flatMap({ current[key: Value($0)] }) else { return nil }
            current = next
        }
        return current
    }

    static func numberText(_ v: Value) -> String { v.numberValue?.description ?? v.jsonText() }

    mutating func validate(_ value: Value, against schema: Value, path: [String]) {
        depth += 1
        defer { depth -= 1 }
        guard depth < 200 else { report(path, "internal", "Schema nesting is too deep"); return }
        if case .bool(let allowed) = schema {
            if !allowed { report(path, "false", "False always fails validation") }
            return
        }
        guard case .object(let s) = schema else { return }
        if case .string(let ref)? = s[string: "$ref"] {
            if let target = resolve(ref) { validate(value, against: target, path: path) } else {
                report(path, "ref", "Reference \(ref) could not be resolved")
            }
            return
        }
        let given = JSONSchema.typeName(value)
        if let type = s[string: "type"] {
            let allowed = (type.arrayValue ?? [type]).compactMap(\.stringValue)
            let ok = allowed.contains(given) || (given == "integer" && allowed.contains("number"))
            if !ok {
                report(path, "invalid_type", "Invalid type. Expected: \(allowed.joined(separator: ", ")), given: \(given)")
                return
            }
        }
        if case .array(let options)? = s[string: "enum"], !options.contains(value) {
            let list = options.map { $0.jsonText() }.joined(separator: ", ")
            report(path, "enum", "\(path.last ?? "(root)") must be one of the following: \(list)")
        }
        if let constant = s[string: "const"], constant != value {
            report(path, "const", "\(path.last ?? "(root)") does not match: \(constant.jsonText())")
        }
        switch value {
        case .object(let o): validateObject(o, s, path)
        case .array, .set: validateArray(value.arrayValue ?? value.setValue?.elements ?? [], s, path)
        case .string(let str): validateString(str, s, path)
        case .number(let n): validateNumber(n, s, path)
        default: break
        }
        if case .array(let all)? = s[string: "allOf"] {
            if !all.allSatisfy({ passes(value, $0, path) }) {
                for sub in all { validate(value, against: sub, path: path) }
                report(path, "number_all_of", "Must validate all the schemas (allOf)")
            }
        }
        if case .array(let any)? = s[string: "anyOf"], !any.contains(where: { passes(value, $0, path) }) {
            report(path, "number_any_of", "Must validate at least one schema (anyOf)")
        }
        if case .array(let one)? = s[string: "oneOf"], one.filter({ passes(value, $0, path) }).count != 1 {
            report(path, "number_one_of", "Must validate one and only one schema (oneOf)")
        }
        if let not = s[string: "not"], passes(value, not, path) {
            report(path, "number_not", "Must not validate the schema (not)")
        }
    }

    mutating func validateObject(_ o: RegoObject, _ s: RegoObject, _ path: [String]) {
        if case .array(let required)? = s[string: "required"] {
            for case .string(let name) in required where o[string: name] == nil {
                report(path, "required", "\(name) is required")
            }
        }
        let properties = s[string: "properties"]?.objectValue ?? RegoObject()
        let patterns = s[string: "patternProperties"]?.objectValue ?? RegoObject()
        for (key, value) in o {
            let name = key.stringValue ?? key.jsonText()
            var matched = false
            if let sub = properties[key] { validate(value, against: sub, path: path + [name]); matched = true }
            for (pattern, sub) in patterns {
                if case .string(let p) = pattern, let re = try? CompiledRegex.cached(p), re.matches(name) {
                    validate(value, against: sub, path: path + [name]); matched = true
                }
            }
            if !matched, let additional = s[string: "additionalProperties"] {
                if case .bool(false) = additional {
                    report(path, "additional_property_not_allowed", "Additional property \(name) is not allowed")
                } else {
                    validate(value, against: additional, path: path + [name])
                }
            }
        }
        if let min = s[string: "minProperties"]?.numberValue, Number(o.count) < min {
            report(path, "array_min_properties", "Must have at least \(min) properties")
        }
        if let max = s[string: "maxProperties"]?.numberValue, Number(o.count) > max {
            report(path, "array_max_properties", "Must have at most \(max) properties")
        }
    }

    mutating func validateArray(_ items: [Value], _ s: RegoObject, _ path: [String]) {
        switch s[string: "items"] {
        case .array(let tuple)?:
            for (i, item) in items.enumerated() {
                if i < tuple.count {
                    validate(item, against: tuple[i], path: path + [String(i)])
                } else if let additional = s[string: "additionalItems"] {
                    if case .bool(false) = additional {
                        report(path, "array_no_additional_items", "No additional items allowed on array")
                        break
                    }
                    validate(item, against: additional, path: path + [String(i)])
                }
            }
        case let single?:
            for (i, item) in items.enumerated() { validate(item, against: single, path: path + [String(i)]) }
        case nil: break
        }
        if let min = s[string: "minItems"]?.numberValue, Number(items.count) < min {
            report(path, "array_min_items", "Array must have at least \(min) items")
        }
        if let max = s[string: "maxItems"]?.numberValue, Number(items.count) > max {
            report(path, "array_max_items", "Array must have at most \(max) items")
        }
        if case .bool(true)? = s[string: "uniqueItems"] {
            outer: for i in items.indices {
                for j in items.indices where j > i && items[i] == items[j] {
                    report(path, "unique", "array items[\(i),\(j)] must be unique")
                    break outer
                }
            }
        }
    }

    mutating func validateString(_ str: String, _ s: RegoObject, _ path: [String]) {
        let length = Number(str.unicodeScalars.count)
        if let min = s[string: "minLength"]?.numberValue, length < min {
            report(path, "string_gte", "String length must be greater than or equal to \(min)")
        }
        if let max = s[string: "maxLength"]?.numberValue, length > max {
            report(path, "string_lte", "String length must be less than or equal to \(max)")
        }
        if case .string(let p)? = s[string: "pattern"], let re = try? CompiledRegex.cached(p), !re.matches(str) {
            report(path, "pattern", "Does not match pattern '\(p)'")
        }
    }

    mutating func validateNumber(_ n: Number, _ s: RegoObject, _ path: [String]) {
        // Draft 4 spells exclusive bounds as booleans beside minimum/maximum; later drafts as numbers.
        if let min = s[string: "minimum"]?.numberValue {
            if case .bool(true)? = s[string: "exclusiveMinimum"] {
                if n <= min { report(path, "number_gt", "Must be greater than \(min)") }
            } else if n < min { report(path, "number_gte", "Must be greater than or equal to \(min)") }
        }
        if let max = s[string: "maximum"]?.numberValue {
            if case .bool(true)? = s[string: "exclusiveMaximum"] {
                if n >= max { report(path, "number_lt", "Must be less than \(max)") }
            } else if n > max { report(path, "number_lte", "Must be less than or equal to \(max)") }
        }
        if let min = s[string: "exclusiveMinimum"]?.numberValue, n <= min { report(path, "number_gt", "Must be greater than \(min)") }
        if let max = s[string: "exclusiveMaximum"]?.numberValue, n >= max { report(path, "number_lt", "Must be less than \(max)") }
        if let m = s[string: "multipleOf"]?.numberValue, !m.isZero {
            let isMultiple: Bool
            if let a = ExactDecimal(n), let b = ExactDecimal(m) {
                // Exact: scale both to a common exponent and compare remainders.
                let e = Swift.min(a.exponent, b.exponent)
                isMultiple = a.scaled(to: e) % b.scaled(to: e) == 0
            } else {
                isMultiple = (n.double / m.double).rounded() == n.double / m.double
            }
            if !isMultiple { report(path, "multiple_of", "Must be a multiple of \(m)") }
        }
    }
}
