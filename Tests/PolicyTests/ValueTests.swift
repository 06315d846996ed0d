import BigInt
import Testing
@testable import Policy

@Suite("Values")
struct ValueTests {
    @Test("integers and floats compare and hash by value")
    func numberEquality() throws {
        let one = try #require(Number(parsing: "1"))
        let oneFloat = try #require(Number(parsing: "1.0"))
        #expect(one == oneFloat)
        #expect(Set([Value.number(one), Value.number(oneFloat)]).count == 1)
        #expect(Number(parsing: "1.5")! > one)
    }

    @Test("big integers stay exact")
    func bigIntegers() throws {
        let a = try #require(Number(parsing: "28857836529306024611913"))
        let b = try #require(Number(parsing: "28857836529306024611912"))
        #expect(a != b)
        #expect((a - b) == Number(1))
        #expect((a * Number(10)).description == "288578365293060246119130")
        #expect((Number(Int.max) + Number(1)).description == "9223372036854775808")
    }

    @Test("division is exact when it divides, floating otherwise")
    func division() {
        #expect(Number(6).divided(by: Number(3)) == Number(2))
        #expect(Number(1).divided(by: Number(4))?.description == "0.25")
        #expect(Number(1).divided(by: Number(0)) == nil)
        #expect(Number(7).remainder(dividingBy: Number(-3)) == Number(1))
    }

    @Test("OPA's order across types")
    func typeOrder() {
        let ordered: [Value] = [.null, false, true, 1, 2.5, "a", "b", [1], .object(RegoObject()), .set(RegoSet([1]))]
        #expect(ordered.shuffled().sorted() == ordered)
    }

    @Test("sets sort and deduplicate; objects keep the last duplicate key")
    func collections() {
        let s = RegoSet([3, 1, 2, 1])
        #expect(s.elements == [1, 2, 3])
        #expect(s.contains(2) && !s.contains(4))
        let o = RegoObject([("b", 1), ("a", 2), ("b", 3)])
        #expect(o.keys == ["a", "b"])
        #expect(o["b"] == 3)
        #expect(o["c"] == nil)
    }

    @Test("JSON round trip keeps big numbers and sorts keys")
    func json() throws {
        let v = try Value(json: #"{"b": [1, 2.5, 123456789012345678901234567890], "a": {"x": null, "y": "é\n"}}"#)
        #expect(v.jsonText() == #"{"a":{"x":null,"y":"é\n"},"b":[1,2.5,123456789012345678901234567890]}"#)
        #expect(throws: JSONParseError.self) { try Value(json: "{\"a\": }") }
    }

    @Test("sets print as sorted arrays in JSON and as Rego in templates")
    func printing() {
        let v = Value.set(RegoSet(["b", "a"]))
        #expect(v.jsonText() == #"["a","b"]"#)
        #expect(v.regoText == #"{"a", "b"}"#)
        #expect(Value.set(RegoSet()).regoText == "set()")
    }

    @Test("a set lookup of a missing member is undefined, not null")
    func setLookup() {
        let s = Value.set(RegoSet([1]))
        #expect(s[key: 1] == 1)
        #expect(s[key: 2] == nil)
    }
}
