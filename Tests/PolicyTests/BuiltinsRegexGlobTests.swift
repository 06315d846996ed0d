import Testing
@testable import Policy

@Suite("Builtins: regex and glob")
struct BuiltinsRegexGlobTests {
    @Test("regex.match uses RE2 syntax and semantics")
    func match() throws {
        #expect(try callBuiltin("regex.match", "^[a-z]+\\[[0-9]+\\]$", "foo[1]") == true)
        #expect(try callBuiltin("regex.match", "", "x") == true)
        #expect(try callBuiltin("regex.match", "^$", "something") == false)
        // `$` is the end of text, not before a final newline; `\d` is ASCII only.
        #expect(try callBuiltin("regex.match", "^a$", "a\n") == false)
        #expect(try callBuiltin("regex.match", "^\\d$", "٣") == false)
        #expect(try callBuiltin("regex.match", "(?P<word>\\w+)", "hi") == true)
        #expect(try callBuiltin("regex.match", "[[]", "[") == true)
        #expect(builtinError("regex.match", "$^[[[", "x")?.code == "eval_builtin_error")
        #expect(builtinError("regex.match", "(?=a)", "a")?.message.hasPrefix("error parsing regexp") == true)
        #expect(try callBuiltin("re_match", "^a", "abc") == true)
    }

    @Test("regex.is_valid is false for invalid patterns and non-strings")
    func isValid() throws {
        #expect(try callBuiltin("regex.is_valid", ".*") == true)
        #expect(try callBuiltin("regex.is_valid", "a(") == false)
        #expect(try callBuiltin("regex.is_valid", "\\1") == false)
        #expect(try callBuiltin("regex.is_valid", 1) == false)
    }

    @Test("find_n, submatches, split and replace follow Go's regexp")
    func findSplitReplace() throws {
        #expect(try callBuiltin("regex.find_n", "a.", "paranormal", -1) == ["ar", "an", "al"])
        #expect(try callBuiltin("regex.find_n", "a.", "paranormal", 2) == ["ar", "an"])
        #expect(try callBuiltin("regex.find_n", "a*", "baaac", -1) == ["", "aaa", ""])
        #expect(try callBuiltin("regex.find_all_string_submatch_n", "a(x*)b(y)?", "-axxb-ab-", -1)
                == [["axxb", "xx", ""], ["ab", "", ""]])
        #expect(try callBuiltin("regex.split", "a", "banana") == ["b", "n", "n", ""])
        #expect(try callBuiltin("regex.split", "x*", "") == [""])
        #expect(try callBuiltin("regex.replace", "-ab-axxb-", "a(x*)b", "${1}W") == "-W-xxW-")
        #expect(try callBuiltin("regex.replace", "-ab-axxb-", "a(x*)b", "$1W") == "---")
        #expect(try callBuiltin("regex.replace", "abc", "(?P<first>a)", "[$first]$$") == "[a]$bc")
    }

    @Test("regex.template_match anchors literal text around patterns")
    func templateMatch() throws {
        #expect(try callBuiltin("regex.template_match", "urn:foo:{.*}", "urn:foo:bar:baz", "{", "}") == true)
        #expect(try callBuiltin("regex.template_match", "urn:foo.bar:{[a-z]+}", "urn:foo.bar:baz", "{", "}") == true)
        #expect(try callBuiltin("regex.template_match", "urn:foo.bar:{[a-z]+}", "urn:fooxbar:baz", "{", "}") == false)
        #expect(builtinError("regex.template_match", "a", "a", "{{", "}") != nil)
    }

    @Test("glob.match with delimiters, super-globs, classes and alternatives")
    func glob() throws {
        #expect(try callBuiltin("glob.match", "*.github.com", ["."], "api.github.com") == true)
        #expect(try callBuiltin("glob.match", "*.github.com", ["."], "api.cdn.github.com") == false)
        #expect(try callBuiltin("glob.match", "api.**.com", ["."], "api.cdn.github.com") == true)
        #expect(try callBuiltin("glob.match", "*", [], "foo.bar") == false)
        #expect(try callBuiltin("glob.match", "*", .null, "foo.bar") == true)
        #expect(try callBuiltin("glob.match", "[!a-c]at", [], "fat") == true)
        #expect(try callBuiltin("glob.match", "[abc]at", [], "fat") == false)
        #expect(try callBuiltin("glob.match", "?at", ["f"], "fat") == false)
        #expect(try callBuiltin("glob.match", "{cat,bat,[fr]at}", [], "rat") == true)
        #expect(try callBuiltin("glob.match", "{cat,bat,[fr]at}", [], "at") == false)
        #expect(try callBuiltin("glob.match", "a\\*b", [], "a*b") == true)
        #expect(try callBuiltin("glob.match", "a\\*b", [], "axb") == false)
        #expect(builtinError("glob.match", "[a", [], "a") != nil)
        #expect(builtinError("glob.match", "*", 1, "a")?.message == "operand 2 must be one of {array, null} but got number")
    }

    @Test("regex.globs_match decides whether two patterns share a match")
    func globsMatch() throws {
        #expect(try callBuiltin("regex.globs_match", "a.a.[0-9]+z", ".b.b2359825792*594823z") == true)
        #expect(try callBuiltin("regex.globs_match", "[a-z]+", "[0-9]*") == false)
        #expect(try callBuiltin("regex.globs_match", "[a-z]", "[^a-z]") == false)
        #expect(try callBuiltin("regex.globs_match", "[a-z]", "[^b]") == true)
        #expect(try callBuiltin("regex.globs_match", "b.*", "bar") == true)
        #expect(try callBuiltin("regex.globs_match", "[a-z]+\\[[0-9]+\\]", "foo[\"bar\"]") == false)
        #expect(builtinError("regex.globs_match", "pqrs]", "[a-b]+")?.message
                == "input:pqrs], pos:5, set-close ']' with no preceding '[': the input provided is invalid")
    }

    @Test("glob.quote_meta escapes glob syntax")
    func quoteMeta() throws {
        #expect(try callBuiltin("glob.quote_meta", "*.github.com") == "\\*.github.com")
        #expect(try callBuiltin("glob.quote_meta", "api.{a,b}[x]?") == "api.\\{a,b\\}\\[x\\]\\?")
    }
}
