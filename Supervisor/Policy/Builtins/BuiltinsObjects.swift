/// Object builtins: `object.get`, `object.keys`, `object.union`, `object.union_n`,
/// `object.remove`, `object.filter`, `object.subset`, `json.filter`, `json.remove`.
extension BuiltinRegistry {
    static let objectBuiltins: [Builtin] = [
        Builtin("object.get", arity: 3) { args, _ in
            let object = try args.object(0)
            // A path array walks nested objects, arrays and sets; an empty path is the object.
            guard case .array(let path) = args[1] else { return object[args[1]] ?? args[2] }
            var current = args[0]
            for key in path {
                guard let next = current[key: key] else { return args[2] }
                current = next
            }
            return current
        },
        Builtin("object.keys", arity: 1) { args, _ in
            .set(RegoSet(try args.object(0).keys))
        },
        Builtin("object.union", arity: 2) { args, _ in
            .object(mergeObjects(try args.object(0), try args.object(1)))
        },
        Builtin("object.union_n", arity: 1) { args, _ in
            var result = RegoObject()
            for item in try args.array(0) {
                guard case .object(let o) = item else { throw BuiltinError.operandElement(1, of: args[0], got: item, expected: "object") }
                result = mergeObjects(result, o)
            }
            return .object(result)
        },
        Builtin("object.remove", arity: 2) { args, _ in
            var object = try args.object(0)
            for key in try keysOperand(args) { object.remove(key) }
            return .object(object)
        },
        Builtin("object.filter", arity: 2) { args, _ in
            let object = try args.object(0)
            let keep = try keysOperand(args)
            return .object(RegoObject(object.filter { keep.contains($0.key) }.map { ($0.key, $0.value) }))
        },
        Builtin("object.subset", arity: 2) { args, _ in
            switch (args[0], args[1]) {
            case let (.object(sup), .object(sub)): return Value(isSubset(.object(sup), of: .object(sub)))
            case let (.set(sup), .set(sub)): return Value(sub.elements.allSatisfy(sup.contains))
            case let (.array(sup), .array(sub)): return Value(isContiguousSlice(sub, of: sup))
            case let (.array(sup), .set(sub)): return Value(sub.elements.allSatisfy(sup.contains))
            case (.object, _), (.set, _), (.array, _):
                throw BuiltinError.operand(2, expectedOneOf: ["object", "set", "array"], got: args[1])
            default:
                throw BuiltinError.operand(1, expectedOneOf: ["object", "set", "array"], got: args[0])
            }
        },
        Builtin("json.filter", arity: 2) { args, _ in
            let object = try args.object(0)
            let tree = try PathTree(paths: try jsonPaths(args))
            return tree.filter(.object(object)) ?? .emptyObject
        },
        Builtin("json.remove", arity: 2) { args, _ in
            let object = try args.object(0)
            let tree = try PathTree(paths: try jsonPaths(args))
            return tree.remove(from: .object(object)) ?? .emptyObject
        },
    ]

    /// The keys named by an array, a set, or an object's keys (operand 2 of remove/filter).
    static func keysOperand(_ args: [Value]) throws -> RegoSet {
        switch args[1] {
        case .array(let a): return RegoSet(a)
        case .set(let s): return s
        case .object(let o): return RegoSet(o.keys)
        default: throw BuiltinError.operand(2, expectedOneOf: ["object", "set", "array"], got: args[1])
        }
    }

    /// OPA's `object.union`: values of `b` win, except two objects merge recursively.
    static func mergeObjects(_ a: RegoObject, _ b: RegoObject) -> RegoObject {
        var result = a
        for (key, value) in b {
            if case .object(let left)? = a[key], case .object(let right) = value {
                result.set(key, .object(mergeObjects(left, right)))
            } else {
                result.set(key, value)
            }
        }
        return result
    }

    /// `sub` ⊆ `sup`: objects recurse, sets are compared as sets, arrays as contiguous slices.
    static func isSubset(_ sup: Value, of sub: Value) -> Bool {
        switch (sup, sub) {
        case let (.object(a), .object(b)):
            return b.allSatisfy { key, value in
                guard let other = a[key] else { return false }
                return isSubset(other, of: value)
            }
        case let (.set(a), .set(b)): return b.elements.allSatisfy(a.contains)
        case let (.array(a), .array(b)): return isContiguousSlice(b, of: a)
        default: return sup == sub
        }
    }

    static func isContiguousSlice(_ sub: [Value], of sup: [Value]) -> Bool {
        if sub.isEmpty { return true }
        guard sub.count <= sup.count else { return false }
        for start in 0...(sup.count - sub.count) where sup[start..<(start + sub.count)].elementsEqual(sub) { return true }
        return false
    }

    /// Paths for json.filter/json.remove: `"a/b/c"` strings or arrays of segments.
    static func jsonPaths(_ args: [Value]) throws -> [[Value]] {
        let items: [Value]
        switch args[1] {
        case .array(let a): items = a
        case .set(let s): items = s.elements
        default: throw BuiltinError.operand(2, expectedOneOf: ["set", "array"], got: args[1])
        }
        return try items.map { item in
            switch item {
            case .string(let s):
                var text = Substring(s)
                if text.hasPrefix("/") { text = text.dropFirst() }
                if text.isEmpty { return [] }
                return text.split(separator: "/", omittingEmptySubsequences: false).map { .string(String($0)) }
            case .array(let segments): return segments
            default:
                throw BuiltinError.operandMessage(2, "must be one of {set, array} containing string paths or array of path segments but got \(item.typeName)")
            }
        }
    }
}

/// A trie of paths; a node marked `end` covers everything beneath it.
struct PathTree {
    var end = false
    var children: [(key: Value, node: PathTree)] = []

    init() {}

    init(paths: [[Value]]) throws {
        for path in paths { insert(path[...]) }
    }

    mutating func insert(_ path: ArraySlice<Value>) {
        guard let first = path.first else { end = true; return }
        if let i = children.firstIndex(where: { $0.key == first }) {
            children[i].node.insert(path.dropFirst())
        } else {
            var node = PathTree()
            node.insert(path.dropFirst())
            children.append((first, node))
        }
    }

    /// The child for an object key or array index; a string segment matches a key by
    /// its text (`"1"` matches the key `1` and index 1).
    func child(for key: Value) -> PathTree? {
        for c in children {
            if c.key == key { return c.node }
            if case .string(let s) = c.key, let text = PathTree.segmentText(key), s == text { return c.node }
        }
        return nil
    }

    static func segmentText(_ key: Value) -> String? {
        switch key {
        case .string(let s): return s
        case .number(let n): return n.description
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        default: return nil
        }
    }

    /// Keeps only what the paths reach; nil when nothing is kept.
    func filter(_ value: Value) -> Value? {
        if end { return value }
        switch value {
        case .object(let o):
            var pairs: [(Value, Value)] = []
            for (k, v) in o { if let c = child(for: k), let kept = c.filter(v) { pairs.append((k, kept)) } }
            return .object(RegoObject(pairs))
        case .array(let a):
            var out: [Value] = []
            for (i, v) in a.enumerated() { if let c = child(for: Value(i)), let kept = c.filter(v) { out.append(kept) } }
            return .array(out)
        case .set(let s):
            var out: [Value] = []
            for v in s { if let c = child(for: v), let kept = c.filter(v) { out.append(kept) } }
            return .set(RegoSet(out))
        default:
            return nil
        }
    }

    /// Drops what the paths reach; nil when the value itself is removed.
    func remove(from value: Value) -> Value? {
        if end { return nil }
        if children.isEmpty { return value }
        switch value {
        case .object(let o):
            var pairs: [(Value, Value)] = []
            for (k, v) in o {
                if let c = child(for: k) {
                    if let kept = c.remove(from: v) { pairs.append((k, kept)) }
                } else { pairs.append((k, v)) }
            }
            return .object(RegoObject(pairs))
        case .array(let a):
            var out: [Value] = []
            for (i, v) in a.enumerated() {
                if let c = child(for: Value(i)) {
                    if let kept = c.remove(from: v) { out.append(kept) }
                } else { out.append(v) }
            }
            return .array(out)
        case .set(let s):
            var out: [Value] = []
            for v in s {
                if let c = child(for: v) {
                    if let kept = c.remove(from: v) { out.append(kept) }
                } else { out.append(v) }
            }
            return .set(RegoSet(out))
        default:
            return value
        }
    }
}
