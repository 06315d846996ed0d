/// Values written as Rego source: strings quoted, sets as `{1, 2}` (empty: `set()`),
/// objects as `{"a": 1}`. Used by string templates and error messages.
extension Value {
    /// The Rego source text of this value.
    public var regoText: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n.description
        case .string(let s):
            var out = ""
            Value.writeJSONString(s, into: &out)
            return out
        case .array(let a): return "[" + a.map(\.regoText).joined(separator: ", ") + "]"
        case .set(let s): return s.isEmpty ? "set()" : "{" + s.elements.map(\.regoText).joined(separator: ", ") + "}"
        case .object(let o):
            return "{" + o.map { "\($0.key.regoText): \($0.value.regoText)" }.joined(separator: ", ") + "}"
        }
    }
}
