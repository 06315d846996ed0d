import Testing
@testable import Policy

@Suite("Builtins: YAML, JSON Patch, graphs, walk and runtime")
struct BuiltinsDocumentsTests {
    @Test("yaml.unmarshal reads block and flow YAML")
    func yamlRead() throws {
        let text = """
        # a comment
        foo:
        - qux: bar
          n: 2
        - [1, 2.5, yes, ~, "q"]
        text: |
          line1
          line2
        folded: >-
          a
          b
        quoted: 'it''s'
        empty:
        """
        #expect(try callBuiltin("yaml.unmarshal", .string(text)) == object(
            ("foo", [object(("qux", "bar"), ("n", 2)), [1, 2.5, true, .null, "q"]]),
            ("text", "line1\nline2\n"), ("folded", "a b"), ("quoted", "it's"), ("empty", .null)))
        #expect(try callBuiltin("yaml.unmarshal", "{\"json\": \"ok\"}") == object(("json", "ok")))
        #expect(builtinError("yaml.unmarshal", "[1,2,3")?.message == "yaml: line 1: did not find expected ',' or ']'")
        #expect(try callBuiltin("yaml.is_valid", "foo:\n- baz: {") == false)
        #expect(try callBuiltin("yaml.is_valid", 1) == false)
    }

    @Test("yaml.marshal writes block YAML that reads back the same")
    func yamlWrite() throws {
        let doc = object(("a", object(("b", [1, "two", "true"]))), ("list", [object(("k", "v"), ("l", .emptySet))]))
        let text = try #require(try callBuiltin("yaml.marshal", doc))
        #expect(text == "a:\n  b:\n  - 1\n  - two\n  - \"true\"\nlist:\n- k: v\n  l: []\n")
        #expect(try callBuiltin("yaml.unmarshal", text) == object(("a", object(("b", [1, "two", "true"]))), ("list", [object(("k", "v"), ("l", []))])))
    }

    @Test("json.patch applies RFC 6902 operations, sets included")
    func jsonPatch() throws {
        let doc = object(("foo", ["bar", "baz"]), ("s", set("a", "b")))
        #expect(try callBuiltin("json.patch", doc, [object(("op", "add"), ("path", "/foo/1"), ("value", "qux"))])
                == object(("foo", ["bar", "qux", "baz"]), ("s", set("a", "b"))))
        #expect(try callBuiltin("json.patch", doc, [object(("op", "remove"), ("path", "s/a"))]) == object(("foo", ["bar", "baz"]), ("s", set("b"))))
        #expect(try callBuiltin("json.patch", doc, [object(("op", "move"), ("from", "/foo/0"), ("path", "/x"))])
                == object(("foo", ["baz"]), ("s", set("a", "b")), ("x", "bar")))
        #expect(try callBuiltin("json.patch", doc, [object(("op", "replace"), ("path", ""), ("value", 1))]) == 1)
        #expect(builtinError("json.patch", doc, [object(("op", "test"), ("path", "/foo/0"), ("value", "no"))]) != nil)
        #expect(builtinError("json.patch", doc, [object(("op", "add"), ("path", "/a/b"), ("value", 1))]) != nil)
    }

    @Test("graph.reachable and graph.reachable_paths")
    func graphs() throws {
        let graph = object(("a", set("b", "c")), ("b", set("d")), ("c", set("d")), ("d", .emptySet), ("e", set("f")), ("f", set("e")))
        #expect(try callBuiltin("graph.reachable", graph, set("b", "e")) == set("b", "d", "e", "f"))
        #expect(try callBuiltin("graph.reachable", .emptyObject, set("a")) == .emptySet)
        #expect(try callBuiltin("graph.reachable_paths", graph, set("b", "e")) == set(["b", "d"], ["e", "f"]))
        #expect(try callBuiltin("graph.reachable_paths", object(("a", ["b", "c"]), ("b", ["c"]), ("c", [])), ["a"]) == set(["a", "b", "c"], ["a", "c"]))
        #expect(builtinError("graph.reachable", 1, [1])?.message == "operand 1 must be object but got number")
    }

    @Test("walk yields every path and value, the root first")
    func walk() throws {
        let relation = try #require(BuiltinRegistry.standard["walk"]?.relation)
        let results = try relation([object(("a", [1]))], BuiltinContext(nowNanoseconds: 0))
        #expect(results == [[[], object(("a", [1]))], [["a"], [1]], [["a", 0], 1]])
    }

    @Test("http.send checks its request and never reaches the network")
    func httpSend() throws {
        #expect(builtinError("http.send", object(("bad_key", 1), ("method", "get"), ("url", "x")))?.message
                == "invalid request parameters(s): {\"bad_key\"}")
        #expect(builtinError("http.send", object(("method", "get")))?.message == "missing required request parameters(s): {\"url\"}")
        #expect(builtinError("http.send", object(("method", "get"), ("url", "http://example.com")))?.code == "eval_builtin_error")
        #expect(try callBuiltin("opa.runtime") == .emptyObject)
    }

    @Test("semver, uuid and rand")
    func identifiers() throws {
        #expect(try callBuiltin("semver.is_valid", "1.0.0-rc.1+build.5") == true)
        #expect(try callBuiltin("semver.is_valid", "01.0.0") == false)
        #expect(try callBuiltin("semver.compare", "1.0.0-alpha", "1.0.0") == -1)
        #expect(try callBuiltin("semver.compare", "1.0.0-alpha.10", "1.0.0-alpha.9") == 1)
        #expect(builtinError("semver.compare", "1", "1.0.0")?.message == "operand 1: string \"1\" is not a valid SemVer")
        let context = BuiltinContext(nowNanoseconds: 0)
        let rfc = try #require(BuiltinRegistry.standard["uuid.rfc4122"]?.function)
        let first = try rfc(["seed"], context), second = try rfc(["seed"], context)
        #expect(first == second)
        #expect(first?.stringValue?.count == 36)
        #expect(try callBuiltin("uuid.parse", "000003e8-48b9-21ee-b200-325096b39f47") == object(
            ("clocksequence", 12800), ("domain", "Person"), ("id", 1000), ("macvariables", "local:unicast"),
            ("nodeid", "32-50-96-b3-9f-47"), ("time", 1_693_566_990_121_469_600), ("variant", "RFC4122"), ("version", 2)))
        #expect(try callBuiltin("uuid.parse", "{00000000-0000-4000-8000-000000000000}") == object(("variant", "RFC4122"), ("version", 4)))
        #expect(try callBuiltin("uuid.parse", "nope") == nil)
        let intn = try #require(BuiltinRegistry.standard["rand.intn"]?.function)
        #expect(try intn(["k", 100], context) == intn(["k", 100], context))
    }

    @Test("net.cidr_merge and net.cidr_contains_matches")
    func cidrSets() throws {
        #expect(try callBuiltin("net.cidr_merge", ["192.0.2.112/30", "192.0.2.116/31", "192.0.2.118/31"]) == set("192.0.2.112/29"))
        #expect(try callBuiltin("net.cidr_merge", ["192.0.128.0", "192.0.129.0"]) == set("192.0.128.0/23"))
        #expect(try callBuiltin("net.cidr_merge", ["::/0", "fe80::1/128", "10.0.0.0/8"]) == set("10.0.0.0/8", "::/0"))
        #expect(builtinError("net.cidr_merge", ["fe80::1"])?.message == "IPv6 invalid: needs prefix length")
        #expect(try callBuiltin("net.cidr_contains_matches", ["1.1.2.0/24", "1.1.1.0/24"], ["1.1.1.1", "1.1.2.1"]) == set([0, 1], [1, 0]))
        #expect(builtinError("net.cidr_contains_matches", "1.1.1.0/24", [1])?.message == "operand 2: element must be string or non-empty array")
    }
}

@Suite("Builtins: internal.print")
struct BuiltinsPrintTests {
    @Test("internal.print writes every combination, <undefined> for empty operands")
    func printLines() throws {
        let function = try #require(BuiltinRegistry.standard["internal.print"]?.function)
        let context = BuiltinContext(nowNanoseconds: 0)
        #expect(try function([[set("hi"), set(1, 2), .emptySet, set(set("x"))]], context) == true)
        #expect(context.printed == ["hi 1 <undefined> {\"x\"}", "hi 2 <undefined> {\"x\"}"])
    }
}

@Suite("Builtins: JSON Schema")
struct BuiltinsJSONSchemaTests {
    let schema = object(
        ("type", "object"),
        ("properties", object(
            ("id", object(("type", "integer"), ("minimum", 1))),
            ("tags", object(("type", "array"), ("items", object(("type", "string"), ("pattern", "^[a-z]+$"))), ("uniqueItems", true))),
            ("mode", object(("enum", ["fast", "safe"]))))),
        ("required", ["id"]),
        ("additionalProperties", false))

    @Test("json.match_schema reports errors as gojsonschema does")
    func match() throws {
        #expect(try callBuiltin("json.match_schema", object(("id", 5), ("tags", ["a"])), schema) == [true, []])
        #expect(try callBuiltin("json.match_schema", "{\"id\": 5}", schema) == [true, []])
        let result = try #require(try callBuiltin("json.match_schema", object(("id", "x"), ("extra", 1)), schema))
        #expect(result == [false, [
            object(("desc", "Additional property extra is not allowed"), ("error", "(root): Additional property extra is not allowed"),
                   ("field", "(root)"), ("type", "additional_property_not_allowed")),
            object(("desc", "Invalid type. Expected: integer, given: string"), ("error", "id: Invalid type. Expected: integer, given: string"),
                   ("field", "id"), ("type", "invalid_type")),
        ]])
        let missing = try #require(try callBuiltin("json.match_schema", object(("tags", ["a", "a", "B"]), ("mode", "slow")), schema))
        let descriptions = missing.arrayValue?[1].arrayValue?.compactMap { $0[key: "desc"]?.stringValue } ?? []
        #expect(descriptions == ["id is required", "mode must be one of the following: \"fast\", \"safe\"",
                                 "Does not match pattern '^[a-z]+$'", "array items[0,1] must be unique"])
    }

    @Test("json.verify_schema rejects unknown types")
    func verify() throws {
        #expect(try callBuiltin("json.verify_schema", "{\"type\": \"boolean\"}") == [true, .null])
        #expect(try callBuiltin("json.verify_schema", object(("type", "unknown_type"))) == [false,
            "jsonschema: has a primitive type that is NOT VALID -- given: /unknown_type/ Expected valid values are:[array boolean integer number null object string]"])
        #expect(builtinError("json.match_schema", object(("id", 1)), object(("type", "nope")))?.code == "eval_builtin_error")
    }
}
