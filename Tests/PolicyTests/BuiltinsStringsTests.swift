import Testing
@testable import Policy

@Suite("Builtins: strings")
struct BuiltinsStringsTests {
    @Test("concat joins arrays and sets of strings, rejecting other members")
    func concat() throws {
        #expect(try callBuiltin("concat", "/", ["", "foo", "bar"]) == "/foo/bar")
        #expect(try callBuiltin("concat", ",", set("b", "a")) == "a,b")
        #expect(builtinError("concat", ",", [1])?.message == "operand 2 must be array of strings but got array containing number")
        #expect(builtinError("concat", ",", "x")?.message == "operand 2 must be one of {set, array} but got string")
    }

    @Test("predicates are byte-wise and return false rather than undefined")
    func predicates() throws {
        #expect(try callBuiltin("contains", "abcdefgh", "defg") == true)
        #expect(try callBuiltin("contains", "abcdefgh", "ac") == false)
        #expect(try callBuiltin("startswith", "abcdefgh", "abcd") == true)
        #expect(try callBuiltin("endswith", "abcdefgh", "fg") == false)
        #expect(builtinError("contains", "abc", 1)?.message == "operand 2 must be string but got number")
        #expect(builtinError("contains", "abc", 1)?.code == "eval_type_error")
    }

    @Test("split, replace and replace_n follow Go")
    func splitReplace() throws {
        #expect(try callBuiltin("split", "", ".") == [""])
        #expect(try callBuiltin("split", "test", "") == ["t", "e", "s", "t"])
        #expect(try callBuiltin("split", "", "") == [])
        #expect(try callBuiltin("split", "foo.bar.baz", ".") == ["foo", "bar", "baz"])
        #expect(try callBuiltin("replace", "foo...bar", "..", ",,") == "foo,,.bar")
        #expect(try callBuiltin("strings.replace_n", object(("a", "1"), ("aa", "2")), "aaa") == "111")
        #expect(try callBuiltin("strings.replace_n", object(("<", "&lt;"), (">", "&gt;")), "<b>") == "&lt;b&gt;")
        #expect(builtinError("strings.replace_n", object(("a", 1)), "a")?.message == "operand 1 non-string value found in pattern object")
    }

    @Test("trim family works on runes")
    func trims() throws {
        #expect(try callBuiltin("trim", "...foo.bar...", ".fr") == "oo.ba")
        #expect(try callBuiltin("trim", "¡¡¡foo, bar!!!", "!¡") == "foo, bar")
        #expect(try callBuiltin("trim_left", "¡¡¡foo, bar!!!", "!¡") == "foo, bar!!!")
        #expect(try callBuiltin("trim_right", "¡¡¡foo, bar!!!", "!¡") == "¡¡¡foo, bar")
        #expect(try callBuiltin("trim_prefix", "¡¡¡foo, bar!!!", "¡¡¡foo") == ", bar!!!")
        #expect(try callBuiltin("trim_suffix", "¡¡¡foo, bar!!!", ", bar!!!") == "¡¡¡foo")
        #expect(try callBuiltin("trim_space", " \t\n foo, bar \n\t\r\n") == "foo, bar")
    }

    @Test("positions count runes")
    func positions() throws {
        #expect(try callBuiltin("indexof", "μx", "x") == 1)
        #expect(try callBuiltin("indexof", "abcdefgh", "xyz") == -1)
        #expect(try callBuiltin("indexof_n", "dogcatdogcat", "cat") == [3, 9])
        #expect(try callBuiltin("substring", "aåäö", 2, -1) == "äö")
        #expect(try callBuiltin("substring", "abcdefgh", 2, 10000) == "cdefgh")
        #expect(try callBuiltin("substring", "aaa", 3, -1) == "")
        #expect(builtinError("substring", "aaa", -1, -1)?.message == "negative offset")
        #expect(builtinError("substring", "aaa", -1, -1)?.code == "eval_builtin_error")
        #expect(builtinError("substring", "aaa", 1.5, 1)?.message == "operand 2 must be integer number but got floating-point number")
        #expect(try callBuiltin("strings.reverse", "2\u{fe0f}\u{20e3}") == "\u{20e3}\u{fe0f}2")
        #expect(try callBuiltin("strings.count", "dummy", "") == 6)
        #expect(try callBuiltin("strings.count", "11111", "11") == 2)
    }

    @Test("format_int truncates and checks the base")
    func formatInt() throws {
        #expect(try callBuiltin("format_int", 15.5, 16) == "f")
        #expect(try callBuiltin("format_int", -5, 2) == "-101")
        #expect(builtinError("format_int", 4.1, 199)?.message == "operand 2 must be one of {2, 8, 10, 16}")
    }

    @Test("any_prefix_match and any_suffix_match take strings, arrays or sets")
    func anyMatch() throws {
        #expect(try callBuiltin("strings.any_prefix_match", ["a/b/c", "e/f/g"], ["d/", "e/f/g"]) == true)
        #expect(try callBuiltin("strings.any_prefix_match", "a/b/c", set("g/", "d/")) == false)
        #expect(try callBuiltin("strings.any_suffix_match", ["a/b/c"], "/c") == true)
        #expect(builtinError("strings.any_prefix_match", [1], ["a"])?.message == "operand 1 must be array of strings but got array containing number")
        #expect(builtinError("strings.any_suffix_match", ["a"], 1)?.message == "operand 2 must be one of {string, set, array} but got number")
    }

    @Test("sprintf formats like Go with OPA's operand conversion")
    func sprintf() throws {
        #expect(try callBuiltin("sprintf", "hi %s", ["there"]) == "hi there")
        // The fast path for plain verbs agrees with the general formatter, and leaves it the rest.
        for (format, operands) in [("%s.calls.day", ["exec"]), ("%d%% of %v, %v", [50, "all", 7]), ("é %s ü", ["ö"]),
                                   ("%v", [2.5]), ("%d", ["x"]), ("%s", [5]), ("%s %s", ["a"]), ("%s", ["a", "b"]), ("%", [])] as [(String, [Value])] {
            let general = GoFormatter.format(format, operands.map(GoFormatter.Argument.init))
            #expect(try callBuiltin("sprintf", .string(format), .array(operands)) == .string(general))
            if let fast = GoFormatter.simpleFormat(format, operands) { #expect(fast == general) }
        }
        #expect(try callBuiltin("sprintf", "hi %02d", [5]) == "hi 05")
        #expect(try callBuiltin("sprintf", "hi %02X.%02X", [127, 1]) == "hi 7F.01")
        #expect(try callBuiltin("sprintf", "hi %.2f", [3.1415]) == "hi 3.14")
        #expect(try callBuiltin("sprintf", "hi %s", [true]) == "hi true")
        #expect(try callBuiltin("sprintf", "hi %v", [["there", 5, 3.14]]) == "hi [\"there\", 5, 3.14]")
        #expect(try callBuiltin("sprintf", "%v %v", [set(1, 2), .emptySet]) == "{1, 2} set()")
        #expect(try callBuiltin("sprintf", "%v", [object(("a", 1))]) == "{\"a\": 1}")
        #expect(try callBuiltin("sprintf", "%s", [Value.number(Number(parsing: "123456789123456789123")!)]) == "123456789123456789123")
        #expect(try callBuiltin("sprintf", "%d", [3.5]) == "%!d(float64=3.5)")
        #expect(try callBuiltin("sprintf", "%s", [5]) == "%!s(int=5)")
        #expect(try callBuiltin("sprintf", "%d %d", [1]) == "1 %!d(MISSING)")
        #expect(try callBuiltin("sprintf", "%d", [1, "a"]) == "1%!(EXTRA string=a)")
        #expect(try callBuiltin("sprintf", "%q|%-4s|%4s|%x", ["a\"b", "ab", "ab", "hi"]) == "\"a\\\"b\"|ab  |  ab|6869")
        #expect(try callBuiltin("sprintf", "%e %g %v", [1234.5678, 0.000012, 1e-7]) == "1.234568e+03 1.2e-05 1e-07")
        #expect(try callBuiltin("sprintf", "%5.1f|%-6d|%+d|%%", [3.14159, 42, 7]) == "  3.1|42    |+7|%")
        #expect(builtinError("sprintf", "%s", "x")?.message == "operand 2 must be array but got string")
    }
}

@Suite("Builtins: strings.render_template")
struct BuiltinsTemplateTests {
    @Test("fields, range, conditions and functions as in Go's text/template")
    func render() throws {
        #expect(try callBuiltin("strings.render_template", "{{.test}}", object(("test", "hello world"))) == "hello world")
        #expect(try callBuiltin("strings.render_template", "{{.test}}", object(("test", 2023))) == "2023")
        #expect(try callBuiltin("strings.render_template", "{{range $i, $name := .names}}{{if $i}},{{end}}hello {{$name}}{{end}}",
                                object(("names", ["rohan", "john doe"]))) == "hello rohan,hello john doe")
        #expect(try callBuiltin("strings.render_template", "test {{.foo}} {{.baz}}", object(("baz", 1))) == "test <undefined> 1")
        #expect(try callBuiltin("strings.render_template", "{{ if gt .n 3 }}big{{ else if eq .n 3 }}three{{ else }}small{{ end }}",
                                object(("n", 3))) == "three")
        #expect(try callBuiltin("strings.render_template", "{{- .l }} {{ .m }} {{ len .l }} {{ printf \"%03d\" 7 -}}  !",
                                object(("l", [1, "two"]), ("m", object(("b", 2), ("a", "x"))))) == "[1 two] map[a:x b:2] 2 007!")
        #expect(builtinError("strings.render_template", "{{ if .x }}", .emptyObject) != nil)
        #expect(builtinError("strings.render_template", "{{ nope 1 }}", .emptyObject) != nil)
    }
}
