/// `json.patch` (RFC 6902) as OPA extends it: paths are JSON pointers (the leading `/`
/// optional) or arrays of segments, and sets are patched by member.
extension BuiltinRegistry {
    static let jsonPatchBuiltins: [Builtin] = [
        Builtin("json.patch", arity: 2) { args, _ in
            var document = args[0]
            for item in try args.array(1) {
                guard case .object(let op) = item else { throw BuiltinError.operandElement(2, of: args[1], got: item, expected: "object") }
                document = try JSONPatch.apply(op, to: document)
            }
            return document
        },
    ]
}

enum JSONPatch {
    static func fail(_ reason: String) -> BuiltinError { BuiltinError.evaluation(reason) }

    static func apply(_ op: RegoObject, to document: Value) throws -> Value {
        guard case .string(let name)? = op[string: "op"] else { throw fail("missing op") }
        guard let pathValue = op[string: "path"] else { throw fail("missing path") }
        let path = try segments(pathValue)
        switch name {
        case "add":
            guard let value = op[string: "value"] else { throw fail("missing value") }
            return try add(value, at: path[...], in: document)
        case "remove":
            return try remove(at: path[...], in: document).document
        case "replace":
            guard let value = op[string: "value"] else { throw fail("missing value") }
            if path.isEmpty { return value }
            let removed = try remove(at: path[...], in: document).document
            return try add(value, at: path[...], in: removed)
        case "move", "copy":
            guard let fromValue = op[string: "from"] else { throw fail("missing from") }
            let from = try segments(fromValue)
            if name == "move" {
                if from == path { return document }
                guard !(path.count > from.count && Array(path.prefix(from.count)) == from) else {
                    throw fail("cannot move a value into one of its children")
                }
                let (removed, value) = try remove(at: from[...], in: document)
                return try add(value, at: path[...], in: removed)
            }
            return try add(try get(from[...], in: document), at: path[...], in: document)
        case "test":
            guard let value = op[string: "value"] else { throw fail("missing value") }
            guard try get(path[...], in: document) == value else { throw fail("test failed") }
            return document
        default:
            throw fail("unknown op \(name)")
        }
    }

    /// A pointer (`/a/b~1c`, or `a/b`) or an array of segments.
    static func segments(_ path: Value) throws -> [Value] {
        switch path {
        case .array(let a): return a
        case .string(let s):
            var text = Substring(s)
            if text.hasPrefix("/") { text = text.dropFirst() } else if text.isEmpty { return [] }
            return text.split(separator: "/", omittingEmptySubsequences: false).map {
                .string($0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~"))
            }
        default: throw fail("path must be a string or an array")
        }
    }

    /// An array index from a segment: a number, or decimal text without leading zeros.
    static func index(_ segment: Value) -> Int? {
        switch segment {
        case .number(let n): return n.int
        case .string(let s):
            guard !s.isEmpty, s.allSatisfy({ $0.isASCII && $0.isNumber }), s == "0" || !s.hasPrefix("0") else { return nil }
            return Int(s)
        default: return nil
        }
    }

    /// The set member a segment names: the member itself, or a string member by its text.
    static func member(_ segment: Value, in set: RegoSet) -> Value? {
        if set.contains(segment) { return segment }
        return nil
    }

    static func get(_ path: ArraySlice<Value>, in value: Value) throws -> Value {
        guard let first = path.first else { return value }
        switch value {
        case .object(let o):
            guard let child = o[first] else { throw fail("path does not exist") }
            return try get(path.dropFirst(), in: child)
        case .array(let a):
            guard let i = index(first), i >= 0, i < a.count else { throw fail("path does not exist") }
            return try get(path.dropFirst(), in: a[i])
        case .set(let s):
            guard let m = member(first, in: s) else { throw fail("path does not exist") }
            return try get(path.dropFirst(), in: m)
        default: throw fail("path does not exist")
        }
    }

    static func add(_ new: Value, at path: ArraySlice<Value>, in value: Value) throws -> Value {
        guard let first = path.first else { return new }
        let last = path.count == 1
        switch value {
        case .object(var o):
            if last { o.set(first, new); return .object(o) }
            guard let child = o[first] else { throw fail("path does not exist -- missing objects are not created recursively") }
            o.set(first, try add(new, at: path.dropFirst(), in: child))
            return .object(o)
        case .array(var a):
            if last {
                if first == "-" { a.append(new); return .array(a) }
                guard let i = index(first), i >= 0, i <= a.count else { throw fail("invalid array index") }
                a.insert(new, at: i)
                return .array(a)
            }
            guard let i = index(first), i >= 0, i < a.count else { throw fail("invalid array index") }
            a[i] = try add(new, at: path.dropFirst(), in: a[i])
            return .array(a)
        case .set(var s):
            if last {
                guard first == new else { throw fail("set member and value differ") }
                s.insert(new)
                return .set(s)
            }
            guard let m = member(first, in: s) else { throw fail("path does not exist") }
            var members = s.elements.filter { $0 != m }
            members.append(try add(new, at: path.dropFirst(), in: m))
            return .set(RegoSet(members))
        default: throw fail("path does not exist")
        }
    }

    /// The document without the value at `path`, and that value.
    static func remove(at path: ArraySlice<Value>, in value: Value) throws -> (document: Value, removed: Value) {
        guard let first = path.first else { throw fail("cannot remove the whole document") }
        let last = path.count == 1
        switch value {
        case .object(var o):
            guard let child = o[first] else { throw fail("path does not exist") }
            if last { o.remove(first); return (.object(o), child) }
            let (updated, removed) = try remove(at: path.dropFirst(), in: child)
            o.set(first, updated)
            return (.object(o), removed)
        case .array(var a):
            guard let i = index(first), i >= 0, i < a.count else { throw fail("invalid array index") }
            if last { let removed = a.remove(at: i); return (.array(a), removed) }
            let (updated, removed) = try remove(at: path.dropFirst(), in: a[i])
            a[i] = updated
            return (.array(a), removed)
        case .set(let s):
            guard let m = member(first, in: s) else { throw fail("path does not exist") }
            var members = s.elements.filter { $0 != m }
            if last { return (.set(RegoSet(members)), m) }
            let (updated, removed) = try remove(at: path.dropFirst(), in: m)
            members.append(updated)
            return (.set(RegoSet(members)), removed)
        default: throw fail("path does not exist")
        }
    }
}
