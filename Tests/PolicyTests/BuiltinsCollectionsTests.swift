import Testing
@testable import Policy

@Suite("Builtins: aggregates, arrays, sets and objects")
struct BuiltinsCollectionsTests {
    @Test("sum and product are exact; max and min are undefined when empty")
    func aggregates() throws {
        #expect(try callBuiltin("sum", [1, 2, 3, 4]) == 10)
        #expect(try callBuiltin("sum", set(1, 2, 3, 4)) == 10)
        #expect(try callBuiltin("sum", [49649733057, 1]) == 49649733058)
        #expect(try callBuiltin("sum", [0.1, 0.2]) == 0.3)
        #expect(try callBuiltin("product", [1, 2, 3, 4]) == 24)
        #expect(try callBuiltin("max", [1, 2, 3]) == 3)
        #expect(try callBuiltin("min", set(3, -7)) == -7)
        #expect(try callBuiltin("max", []) == nil)
        #expect(try callBuiltin("sort", [4, "a", 1]) == [1, 4, "a"])
        #expect(builtinError("sum", ["a"])?.message == "operand 1 must be array of numbers but got array containing string")
        #expect(builtinError("sum", "a")?.message == "operand 1 must be one of {set, array} but got string")
        #expect(builtinError("sort", 1)?.message == "operand 1 must be one of {set, array} but got number")
    }

    @Test("array.concat, array.slice (clamped), array.reverse, array.flatten")
    func arrays() throws {
        #expect(try callBuiltin("array.concat", [1, 2], [3]) == [1, 2, 3])
        #expect(try callBuiltin("array.slice", [1, 2, 3, 4, 5], 1, 3) == [2, 3])
        #expect(try callBuiltin("array.slice", [1, 2, 3, 4, 5], -4, -1) == [])
        #expect(try callBuiltin("array.slice", [1, 2, 3, 4, 5], -1, 2) == [1, 2])
        #expect(try callBuiltin("array.slice", [1, 2, 3], 1000, 2000) == [])
        #expect(try callBuiltin("array.reverse", [1, 2, 3]) == [3, 2, 1])
        #expect(try callBuiltin("array.flatten", [[1, [2]], 3]) == [1, [2], 3])
        #expect(builtinError("array.concat", [1], object(("a", 1)))?.message == "operand 2 must be array but got object")
    }

    @Test("union and intersection of a set of sets")
    func sets() throws {
        #expect(try callBuiltin("union", set(set(1, 2), set(2, 3))) == set(1, 2, 3))
        #expect(try callBuiltin("union", .emptySet) == .emptySet)
        #expect(try callBuiltin("intersection", set(set(1, 2, 3), set(2, 3, 4))) == set(2, 3))
        #expect(try callBuiltin("intersection", .emptySet) == .emptySet)
        #expect(builtinError("union", set(1))?.message == "operand 1 must be set of sets but got set containing number")
    }

    @Test("object.get takes a key or a path")
    func objectGet() throws {
        let nested = object(("a", object(("b", [object(("c", 1))]))))
        #expect(try callBuiltin("object.get", object(("a", "b")), "a", "c") == "b")
        #expect(try callBuiltin("object.get", object(("a", "b")), "x", "c") == "c")
        #expect(try callBuiltin("object.get", nested, ["a", "b", 0, "c"], 2) == 1)
        #expect(try callBuiltin("object.get", nested, ["a", "x"], 2) == 2)
        #expect(try callBuiltin("object.get", nested, [], 2) == nested)
        #expect(builtinError("object.get", "x", ["a"], 2)?.message == "operand 1 must be object but got string")
    }

    @Test("object.union merges recursively; remove, filter and keys")
    func objectEdits() throws {
        let a = object(("a", object(("b", 1), ("c", 2))), ("d", 1))
        let b = object(("a", object(("b", 3))), ("d", object(("x", 1))))
        #expect(try callBuiltin("object.union", a, b) == object(("a", object(("b", 3), ("c", 2))), ("d", object(("x", 1)))))
        #expect(try callBuiltin("object.union_n", [a, object(("d", 2))]) == object(("a", object(("b", 1), ("c", 2))), ("d", 2)))
        #expect(try callBuiltin("object.remove", a, ["a"]) == object(("d", 1)))
        #expect(try callBuiltin("object.filter", a, set("a")) == object(("a", object(("b", 1), ("c", 2)))))
        #expect(try callBuiltin("object.keys", a) == set("a", "d"))
        #expect(builtinError("object.remove", a, "a")?.message == "operand 2 must be one of {object, set, array} but got string")
        #expect(builtinError("object.union_n", [a, 1])?.message == "operand 1 must be array of objects but got array containing number")
    }

    @Test("object.subset over objects, sets and arrays")
    func subset() throws {
        let sup = object(("a", "b"), ("c", object(("x", set(10, 15, 20, 25)), ("y", "z"))))
        #expect(try callBuiltin("object.subset", sup, object(("c", object(("x", set(10, 15, 20)))))) == true)
        #expect(try callBuiltin("object.subset", sup, object(("a", "c"))) == false)
        #expect(try callBuiltin("object.subset", [1, 2, 3, 4], [2, 3]) == true)
        #expect(try callBuiltin("object.subset", [1, 2, 3, 4], [3, 2]) == false)
        #expect(try callBuiltin("object.subset", [1, 2, 3], set(3, 1)) == true)
    }

    @Test("json.filter and json.remove take string paths or segment arrays")
    func jsonPaths() throws {
        let doc = object(("a", object(("b", object(("c", 7), ("d", 8))))), ("e", 9))
        #expect(try callBuiltin("json.filter", doc, set("a/b/c", "e")) == object(("a", object(("b", object(("c", 7))))), ("e", 9)))
        #expect(try callBuiltin("json.remove", doc, [["a", "b", "c"], ["e"]]) == object(("a", object(("b", object(("d", 8)))))))
        let arrays = object(("a", [object(("b", 7), ("c", 8)), object(("d", 9))]))
        #expect(try callBuiltin("json.filter", arrays, set("a/0/b", "a/1")) == object(("a", [object(("b", 7)), object(("d", 9))])))
        #expect(try callBuiltin("json.remove", arrays, set("a/0/b", "a/1")) == object(("a", [object(("c", 8))])))
        #expect(builtinError("json.remove", doc, [1])?.message
                == "operand 2 must be one of {set, array} containing string paths or array of path segments but got number")
    }
}
