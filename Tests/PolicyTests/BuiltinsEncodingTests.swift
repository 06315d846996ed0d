import Testing
@testable import Policy

@Suite("Builtins: encodings, units, networks, numbers and types")
struct BuiltinsEncodingTests {
    @Test("json.marshal, marshal_with_options, unmarshal and is_valid")
    func json() throws {
        #expect(try callBuiltin("json.marshal", [object(("foo", set(1, 2, 3)))]) == "[{\"foo\":[1,2,3]}]")
        #expect(try callBuiltin("json.marshal_with_options", [1, 2], object(("indent", "  "))) == "[\n  1,\n  2\n]")
        #expect(try callBuiltin("json.marshal_with_options", [1, 2], .emptyObject) == "[1,2]")
        #expect(try callBuiltin("json.marshal_with_options", object(("b", 1), ("a", [])), object(("prefix", "> ")))
                == "> {\n> \t\"a\": [],\n> \t\"b\": 1\n> }")
        #expect(builtinError("json.marshal_with_options", [], object(("bogus", true)))?.message
                == "operand 2 object contained unknown key \"bogus\"")
        #expect(try callBuiltin("json.unmarshal", "[{\"foo\":[1,2,3]}]") == [object(("foo", [1, 2, 3]))])
        #expect(builtinError("json.unmarshal", "{")?.code == "eval_builtin_error")
        #expect(try callBuiltin("json.is_valid", "{") == false)
        #expect(try callBuiltin("json.is_valid", 1) == false)
    }

    @Test("base64, base64url and hex follow Go's decoders")
    func base64() throws {
        #expect(try callBuiltin("base64.encode", "subjects?_d") == "c3ViamVjdHM/X2Q=")
        #expect(try callBuiltin("base64.decode", "c3ViamVjdHM/X2Q=") == "subjects?_d")
        #expect(try callBuiltin("base64.is_valid", "{'not':'base64'}") == false)
        #expect(try callBuiltin("base64.is_valid", "aGVsbG8") == false)
        #expect(builtinError("base64.decode", "a$==")?.message == "illegal base64 data at input byte 1")
        #expect(try callBuiltin("base64url.encode", "subjects?_d") == "c3ViamVjdHM_X2Q=")
        #expect(try callBuiltin("base64url.encode_no_pad", "hello") == "aGVsbG8")
        #expect(try callBuiltin("base64url.decode", "aGVsbG8") == "hello")
        // Invalid UTF-8 becomes one U+FFFD per bad byte, so count agrees with OPA.
        let decoded = try callBuiltin("base64.decode", "2E84ZuPUd7zfvCZSNEchVpDEIj6PL7JfLpIqyxVG16k=")
        #expect(decoded?.stringValue?.unicodeScalars.count == 30)
        #expect(try callBuiltin("hex.encode", "lorem") == "6c6f72656d")
        #expect(try callBuiltin("hex.decode", "6c6f72656d") == "lorem")
        #expect(builtinError("hex.decode", "6c6")?.message == "encoding/hex: odd length hex string")
        #expect(builtinError("hex.decode", "zz")?.message == "encoding/hex: invalid byte: U+007A 'z'")
    }

    @Test("urlquery encodes like Go's url package")
    func urlQuery() throws {
        #expect(try callBuiltin("urlquery.encode", "a b&c=d/é") == "a+b%26c%3Dd%2F%C3%A9")
        #expect(try callBuiltin("urlquery.decode", "a+b%26c") == "a b&c")
        #expect(builtinError("urlquery.decode", "%zz")?.message == "invalid URL escape \"%zz\"")
        #expect(try callBuiltin("urlquery.encode_object", object(("b", ["2", "1"]), ("a", "x y"))) == "a=x+y&b=2&b=1")
        #expect(try callBuiltin("urlquery.decode_object", "a=1&b=2&a=3") == object(("a", ["1", "3"]), ("b", ["2"])))
    }

    @Test("units.parse is exact; units.parse_bytes truncates")
    func units() throws {
        #expect(try callBuiltin("units.parse", "500m") == 0.5)
        #expect(try callBuiltin("units.parse", "0.0005K") == 0.5)
        #expect(try callBuiltin("units.parse", "1.1Ki") == 1126.4)
        #expect(try callBuiltin("units.parse", "-3.5E2m") == -0.35)
        #expect(try callBuiltin("units.parse", "10Ei") == .number(Number(parsing: "11529215046068469760")!))
        #expect(try callBuiltin("units.parse", "\"100TI\"") == 109_951_162_777_600)
        #expect(builtinError("units.parse", "G")?.message == "no amount provided")
        #expect(builtinError("units.parse", "0.0.0")?.message == "could not parse amount to a number")
        #expect(builtinError("units.parse", " 327Mi ")?.message == "spaces not allowed in resource strings")
        #expect(builtinError("units.parse", "5Q")?.message == "unit Q not recognized")
        #expect(try callBuiltin("units.parse_bytes", "1.1KiB") == 1126)
        #expect(try callBuiltin("units.parse_bytes", "1e-2KB") == 10)
        #expect(try callBuiltin("units.parse_bytes", "10eb") == .number(Number(parsing: "10000000000000000000")!))
        #expect(builtinError("units.parse_bytes", "foo")?.message == "no byte amount provided")
        #expect(builtinError("units.parse_bytes", "1xb")?.message == "byte unit xb not recognized")
    }

    @Test("CIDR builtins for IPv4 and IPv6")
    func networks() throws {
        #expect(try callBuiltin("net.cidr_contains", "10.0.0.0/8", "10.1.0.0/24") == true)
        #expect(try callBuiltin("net.cidr_contains", "172.17.0.0/24", "172.17.0.0/16") == false)
        #expect(try callBuiltin("net.cidr_contains", "10.0.0.0/8", "10.1.2.3") == true)
        #expect(try callBuiltin("net.cidr_contains", "2001:4860:4860::8888/32", "2001:4860:4860:1234::8888/40") == true)
        #expect(try callBuiltin("net.cidr_contains", "2001:4860::/32", "fd1e:5bfe:8af3:9ddc::/64") == false)
        #expect(try callBuiltin("net.cidr_contains", "fd00::/64", "fd00::1") == true)
        #expect(builtinError("net.cidr_contains", "not-a-cidr", "1.2.3.4")?.message == "invalid CIDR address: not-a-cidr")
        #expect(try callBuiltin("net.cidr_intersects", "192.168.0.0/16", "192.168.1.0/24") == true)
        #expect(try callBuiltin("net.cidr_is_valid", "10.0.0.0/33") == false)
        #expect(try callBuiltin("net.cidr_is_valid", "::1/128") == true)
        #expect(try callBuiltin("net.cidr_expand", "192.168.0.0/31") == set("192.168.0.0", "192.168.0.1"))
        #expect(try callBuiltin("net.cidr_expand", "2001:db8::/127") == set("2001:db8::", "2001:db8::1"))
    }

    @Test("number builtins and bit operations")
    func numbers() throws {
        #expect(try callBuiltin("abs", -3.5) == 3.5)
        #expect(try callBuiltin("round", -2.5) == -3)
        #expect(try callBuiltin("ceil", 1.2) == 2)
        #expect(try callBuiltin("floor", -1.2) == -2)
        #expect(try callBuiltin("numbers.range", 2, -1) == [2, 1, 0, -1])
        #expect(try callBuiltin("numbers.range_step", 0, 10, 4) == [0, 4, 8])
        #expect(builtinError("numbers.range", 3.14, 4)?.message == "operand 1 must be integer number but got floating-point number")
        #expect(builtinError("numbers.range_step", 0, 10, 0)?.message == "step must be a positive integer")
        #expect(try callBuiltin("to_number", "-42.0") == -42)
        #expect(try callBuiltin("to_number", true) == 1)
        #expect(builtinError("to_number", "nan")?.code == "eval_type_error")
        #expect(builtinError("to_number", "broken")?.message.hasSuffix("invalid syntax") == true)
        #expect(try callBuiltin("bits.and", 7, 9) == 1)
        #expect(try callBuiltin("bits.xor", 42, 3) == 41)
        #expect(try callBuiltin("bits.negate", 42) == -43)
        #expect(try callBuiltin("bits.lsh", .number(Number(Int.max)), 1) == .number(Number(parsing: "18446744073709551614")!))
        #expect(try callBuiltin("bits.rsh", -8, 1) == -4)
        #expect(builtinError("bits.lsh", 7, -1)?.message == "operand 2 must be an unsigned integer number but got a negative integer")
    }

    @Test("type checks answer false rather than undefined")
    func types() throws {
        #expect(try callBuiltin("is_number", 1) == true)
        #expect(try callBuiltin("is_number", "1") == false)
        #expect(try callBuiltin("is_set", .emptySet) == true)
        #expect(try callBuiltin("is_object", .emptySet) == false)
        #expect(try callBuiltin("is_null", .null) == true)
        #expect(try callBuiltin("type_name", true) == "boolean")
        #expect(try callBuiltin("type_name", .emptyObject) == "object")
    }
}

@Suite("Builtins: io.jwt.decode")
struct BuiltinsJWTTests {
    @Test("decodes header, payload and hex signature; refuses malformed tokens")
    func decode() throws {
        let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwIiwiaXNzIjoib3BhIn0.XmVoLoHI3pxMtMO_WRONMSJzGUDP9pDjy8Jp0_tdRXY"
        #expect(try callBuiltin("io.jwt.decode", .string(token)) == [
            object(("alg", "HS256"), ("typ", "JWT")), object(("iss", "opa"), ("sub", "0")),
            "5e65682e81c8de9c4cb4c3bf59138d3122731940cff690e3cbc269d3fb5d4576",
        ])
        #expect(builtinError("io.jwt.decode", "abc")?.message == "encoded JWT had no period separators")
        #expect(builtinError("io.jwt.decode", "a.b")?.message == "encoded JWT must have 3 sections, found 2")
        #expect(builtinError("io.jwt.decode", "eyJhbGciOiJIU^%zI1NiI+sInR5cCI6IkpXVCJ9.e30.e30")?.message
                == "JWT header had invalid encoding: illegal base64 data at input byte 13")
    }
}
