import Testing
@testable import Policy

@Suite("Compiler")
struct CompilerTests {
    func compile(_ text: String) throws -> CompiledPolicy {
        try CompiledPolicy(sources: [PolicySource(file: "p.rego", text: text)])
    }

    @Test("recursion through another rule is reported with the cycle")
    func recursion() throws {
        let error = try #require(throws: PolicyError.self) {
            try compile("package a\np if q\nq if p\n")
        }
        #expect(error.code == "rego_recursion_error")
        #expect(error.message.contains("data.a.p -> data.a.q -> data.a.p") || error.message.contains("data.a.q -> data.a.p -> data.a.q"))
    }

    @Test("an unknown function is a type error at its call")
    func unknownFunction() throws {
        let error = try #require(throws: PolicyError.self) { try compile("package a\np if nope(1)\n") }
        #expect(error.code == "rego_type_error")
        #expect(error.message == "undefined function nope")
        #expect(error.location?.row == 2)
    }

    @Test("an unsafe head variable names the variable")
    func unsafeHead() throws {
        let error = try #require(throws: PolicyError.self) { try compile("package a\np contains x if { y := 1 }\n") }
        #expect(error.code == "rego_unsafe_var_error")
        #expect(error.message == "var x is unsafe")
    }

    @Test("two default values for one rule are rejected")
    func doubleDefault() throws {
        #expect(throws: PolicyError.self) { try compile("package a\ndefault p := 1\ndefault p := 2\n") }
    }

    @Test("check reports every file's first error without stopping")
    func checkAll() {
        let errors = CompiledPolicy.check(sources: [
            PolicySource(file: "a.rego", text: "package a\np := [\n"),
            PolicySource(file: "b.rego", text: "package b\nq := }\n"),
        ])
        #expect(errors.map { $0.location?.file } == ["a.rego", "b.rego"])
    }

    @Test("Rego v1 syntax: ref heads, contains, else, every, some-in, raw strings, comments")
    func syntax() throws {
        let policy = try compile(#"""
        package a
        import rego.v1

        # a comment
        servers.web.ports contains 80
        servers.web.ports contains 443
        limits[name] := n if { some name, n in {"cpu": 2} }
        grade(s) := "high" if s > 90
        else := "low"
        all_small if every x in [1, 2] { x < 10 }
        raw := `C:\path`
        """#)
        let results = try policy.prepare("data.a").evaluate()
        let doc = try #require(results.first?.expressions.first)
        #expect(doc.jsonText() == #"{"all_small":true,"limits":{"cpu":2},"raw":"C:\\path","servers":{"web":{"ports":[80,443]}}}"#)
        #expect(try policy.prepare("x := data.a.grade(50)").evaluate().first?.bindings.first?.value == "low")
    }
}
