import BigInt
import Foundation

/// A Rego value: what policies compute with and what `data` and `input` hold.
///
/// Undefined is not a value: a builtin that is undefined returns `nil` (see `BuiltinFunction`).
/// Values have OPA's total order (null < boolean < number < string < array < object < set),
/// which `<` and `Value.compare(_:_:)` follow; equality treats `1` and `1.0` as equal.
///
/// Construct with the cases or the conveniences: `Value.string("a")`, `Value(3)`, `Value(true)`,
/// `.array([...])`, `.set(RegoSet([...]))`, `.object(RegoObject([(key, value), ...]))`.
public enum Value: Sendable, Hashable, Comparable {
    case null
    case bool(Bool)
    case number(Number)
    case string(String)
    case array([Value])
    case object(RegoObject)
    case set(RegoSet)

    /// An integer value.
    public init(_ int: Int) { self = .number(Number(int)) }
    /// A floating-point value.
    public init(_ double: Double) { self = .number(Number(double)) }
    /// A boolean value.
    public init(_ bool: Bool) { self = .bool(bool) }
    /// A string value.
    public init(_ string: String) { self = .string(string) }

    /// An empty object.
    public static let emptyObject = Value.object(RegoObject())
    /// An empty set.
    public static let emptySet = Value.set(RegoSet())

    /// OPA's type name, as used in error messages: "null", "boolean", "number", "string",
    /// "array", "object", "set".
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        case .set: return "set"
        }
    }

    /// Position of the type in OPA's sort order.
    @inlinable
    var typeRank: Int {
        switch self {
        case .null: return 0
        case .bool: return 1
        case .number: return 2
        case .string: return 3
        case .array: return 4
        case .object: return 5
        case .set: return 6
        }
    }

    /// OPA's total order: -1, 0 or 1.
    public static func compare(_ lhs: Value, _ rhs: Value) -> Int {
        switch (lhs, rhs) {
        case (.null, .null): return 0
        case let (.bool(a), .bool(b)): return a == b ? 0 : (a ? 1 : -1)
        case let (.number(a), .number(b)): return Number.compare(a, b)
        case let (.string(a), .string(b)): return compareStrings(a, b)
        case let (.array(a), .array(b)): return compareSequences(a, b)
        case let (.object(a), .object(b)): return RegoObject.compare(a, b)
        case let (.set(a), .set(b)): return compareSequences(a.elements, b.elements)
        default:
            return lhs.typeRank < rhs.typeRank ? -1 : 1
        }
    }

    /// Strings sort by their UTF-8 bytes, as in Go.
    public static func compareStrings(_ a: String, _ b: String) -> Int {
        if a == b { return 0 }
        // Native strings are contiguous UTF-8: compare the bytes at once.
        if let c = a.utf8.withContiguousStorageIfAvailable({ pa in
            b.utf8.withContiguousStorageIfAvailable { pb -> Int in
                let n = Swift.min(pa.count, pb.count)
                if n > 0, let x = pa.baseAddress, let y = pb.baseAddress {
                    let r = memcmp(x, y, n)
                    if r != 0 { return r < 0 ? -1 : 1 }
                }
                return pa.count == pb.count ? 0 : (pa.count < pb.count ? -1 : 1)
            }
        }), let c {
            return c == 0 ? (a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1) : c
        }
        return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
    }

    static func compareSequences(_ a: [Value], _ b: [Value]) -> Int {
        for (x, y) in zip(a, b) {
            let c = compare(x, y)
            if c != 0 { return c }
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    public static func < (lhs: Value, rhs: Value) -> Bool { compare(lhs, rhs) < 0 }

    public static func == (lhs: Value, rhs: Value) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)): return a == b
        case let (.set(a), .set(b)): return a == b
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(b)
        case .number(let n): hasher.combine(n)
        case .string(let s): hasher.combine(s)
        case .array(let a): hasher.combine(4); hasher.combine(a)
        case .object(let o): hasher.combine(o)
        case .set(let s): hasher.combine(s)
        }
    }

    // MARK: Accessors

    /// The string, when this is a string.
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    /// The number, when this is a number.
    public var numberValue: Number? { if case .number(let n) = self { return n }; return nil }
    /// The boolean, when this is a boolean.
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    /// The elements, when this is an array.
    public var arrayValue: [Value]? { if case .array(let a) = self { return a }; return nil }
    /// The object, when this is an object.
    public var objectValue: RegoObject? { if case .object(let o) = self { return o }; return nil }
    /// The set, when this is a set.
    public var setValue: RegoSet? { if case .set(let s) = self { return s }; return nil }

    /// True for arrays, objects and sets.
    public var isCollection: Bool {
        switch self {
        case .array, .object, .set: return true
        default: return false
        }
    }

    /// Looks up one step of a reference: an array index, an object key, or set membership
    /// (a set "contains" key k as k itself). Nil when undefined.
    public subscript(key key: Value) -> Value? {
        switch self {
        case .array(let a):
            guard case .number(let n) = key, let i = n.int, i >= 0, i < a.count else { return nil }
            return a[i]
        case .object(let o): return o[key]
        case .set(let s):
            if s.contains(key) { return key }
            return nil
        default: return nil
        }
    }
}

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByFloatLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Number(value)) }
    public init(floatLiteral value: Double) { self = .number(Number(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: Value...) { self = .array(elements) }
}

/// A Rego set: unique values kept sorted in OPA's order.
///
/// `RegoSet([a, b, a])` sorts and removes duplicates; `contains` is a binary search;
/// iterate `elements` for sorted order.
public struct RegoSet: Sendable, Hashable, Sequence {
    /// The members in OPA's sort order, without duplicates.
    public private(set) var elements: [Value]

    /// An empty set.
    public init() { elements = [] }

    /// A set of the given values (any order, duplicates allowed).
    public init<S: Sequence>(_ values: S) where S.Element == Value {
        var all = Array(values)
        guard all.count > 1 else { elements = all; return }
        all.sort()
        var unique: [Value] = []
        unique.reserveCapacity(all.count)
        for v in all where unique.last.map({ $0 != v }) ?? true { unique.append(v) }
        elements = unique
    }

    /// Already sorted and unique values (no check).
    init(sortedUnique: [Value]) { elements = sortedUnique }

    /// The number of members.
    public var count: Int { elements.count }
    /// True when there are no members.
    public var isEmpty: Bool { elements.isEmpty }

    public func makeIterator() -> IndexingIterator<[Value]> { elements.makeIterator() }

    /// Membership by binary search.
    public func contains(_ value: Value) -> Bool { index(of: value) != nil }

    func index(of value: Value) -> Int? {
        var lo = 0, hi = elements.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            let c = Value.compare(elements[mid], value)
            if c == 0 { return mid }
            if c < 0 { lo = mid + 1 } else { hi = mid - 1 }
        }
        return nil
    }

    /// Adds a member, keeping the order.
    public mutating func insert(_ value: Value) {
        var lo = 0, hi = elements.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let c = Value.compare(elements[mid], value)
            if c == 0 { return }
            if c < 0 { lo = mid + 1 } else { hi = mid }
        }
        elements.insert(value, at: lo)
    }

    /// Members of either set.
    public func union(_ other: RegoSet) -> RegoSet {
        if isEmpty { return other }
        if other.isEmpty { return self }
        var out: [Value] = []
        out.reserveCapacity(count + other.count)
        var i = 0, j = 0
        let a = elements, b = other.elements
        while i < a.count && j < b.count {
            let c = Value.compare(a[i], b[j])
            if c == 0 { out.append(a[i]); i += 1; j += 1 } else if c < 0 { out.append(a[i]); i += 1 } else { out.append(b[j]); j += 1 }
        }
        out.append(contentsOf: a[i...]); out.append(contentsOf: b[j...])
        return RegoSet(sortedUnique: out)
    }

    /// Members of both sets.
    public func intersection(_ other: RegoSet) -> RegoSet {
        RegoSet(sortedUnique: elements.filter { other.contains($0) })
    }

    /// Members of this set not in `other`.
    public func subtracting(_ other: RegoSet) -> RegoSet {
        RegoSet(sortedUnique: elements.filter { !other.contains($0) })
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(6)
        hasher.combine(elements)
    }
}

/// A Rego object: keys of any value type, kept sorted in OPA's order.
///
/// `RegoObject([(k, v), ...])` sorts; a later duplicate key replaces an earlier one.
/// `object[key]` is a binary search; iterate `(key, value)` pairs in key order.
public struct RegoObject: Sendable, Hashable, Sequence {
    /// Keys in OPA's sort order.
    public private(set) var keys: [Value]
    /// Values, aligned with `keys`.
    public private(set) var values: [Value]

    /// An empty object.
    public init() { keys = []; values = [] }

    /// An object of the given pairs (any order; the last of duplicate keys wins).
    public init<S: Sequence>(_ pairs: S) where S.Element == (Value, Value) {
        var all = Array(pairs)
        guard all.count > 1 else { keys = all.map(\.0); values = all.map(\.1); return }
        // Stable sort keeps the later duplicate last, and it wins.
        all = all.enumerated().sorted { l, r in
            let c = Value.compare(l.element.0, r.element.0)
            return c == 0 ? l.offset < r.offset : c < 0
        }.map(\.element)
        var ks: [Value] = [], vs: [Value] = []
        ks.reserveCapacity(all.count); vs.reserveCapacity(all.count)
        for (k, v) in all {
            if let last = ks.last, last == k { vs[vs.count - 1] = v } else { ks.append(k); vs.append(v) }
        }
        keys = ks; values = vs
    }

    /// An object with string keys.
    public init(_ dictionary: [String: Value]) {
        self.init(dictionary.map { (Value.string($0.key), $0.value) })
    }

    /// Already sorted, unique keys (no check).
    init(sortedKeys: [Value], values: [Value]) { keys = sortedKeys; self.values = values }

    /// Keys and their values, aligned; sorted here unless they already are (object literals
    /// usually are not, but their keys are few).
    init(keys: [Value], values: [Value]) {
        var ascending = true
        for i in keys.indices.dropFirst() where Value.compare(keys[i - 1], keys[i]) >= 0 {
            ascending = false
            break
        }
        if ascending {
            self.init(sortedKeys: keys, values: values)
        } else {
            self.init(zip(keys, values).map { ($0, $1) })
        }
    }

    /// The number of keys.
    public var count: Int { keys.count }
    /// True when there are no keys.
    public var isEmpty: Bool { keys.isEmpty }

    /// Position of `key`, by binary search.
    func index(of key: Value) -> Int? {
        var lo = 0, hi = keys.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            let c = Value.compare(keys[mid], key)
            if c == 0 { return mid }
            if c < 0 { lo = mid + 1 } else { hi = mid - 1 }
        }
        return nil
    }

    /// The value at `key`, or nil.
    public subscript(key: Value) -> Value? {
        guard let i = index(of: key) else { return nil }
        return values[i]
    }

    /// The value at a string key, or nil.
    public subscript(string key: String) -> Value? { self[.string(key)] }

    /// Sets or replaces the value at `key`.
    public mutating func set(_ key: Value, _ value: Value) {
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let c = Value.compare(keys[mid], key)
            if c == 0 { values[mid] = value; return }
            if c < 0 { lo = mid + 1 } else { hi = mid }
        }
        keys.insert(key, at: lo); values.insert(value, at: lo)
    }

    /// Removes `key` if present.
    public mutating func remove(_ key: Value) {
        if let i = index(of: key) { keys.remove(at: i); values.remove(at: i) }
    }

    public func makeIterator() -> AnyIterator<(key: Value, value: Value)> {
        var i = 0
        let ks = keys, vs = values
        return AnyIterator {
            guard i < ks.count else { return nil }
            defer { i += 1 }
            return (ks[i], vs[i])
        }
    }

    /// OPA compares objects key by key (sorted), then value by value, then by size.
    static func compare(_ a: RegoObject, _ b: RegoObject) -> Int {
        let n = Swift.min(a.count, b.count)
        for i in 0..<n {
            let c = Value.compare(a.keys[i], b.keys[i])
            if c != 0 { return c }
            let d = Value.compare(a.values[i], b.values[i])
            if d != 0 { return d }
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    public static func == (lhs: RegoObject, rhs: RegoObject) -> Bool {
        lhs.keys == rhs.keys && lhs.values == rhs.values
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(5)
        hasher.combine(keys)
        hasher.combine(values)
    }
}
