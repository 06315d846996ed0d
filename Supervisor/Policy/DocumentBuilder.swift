/// Assembles a virtual document from rule outputs at key paths (`p.q.r := 1`, `p[x].s := v`,
/// `p[x] contains y`). A value a rule produced is a leaf: another rule may neither replace it
/// nor add keys inside it, which OPA reports as a conflict.
final class DocumentBuilder {
    enum Content {
        case empty
        case leaf(Value)
        case set([Value])
        case object([Value: DocumentBuilder])
    }

    var content: Content = .empty

    static func conflict(_ loc: SourceLocation?) -> PolicyError {
        PolicyError("eval_conflict_error", "object keys must be unique", at: loc)
    }

    /// The child object node at `key`, turning an empty node into an object.
    func child(_ key: Value, _ loc: SourceLocation?) throws -> DocumentBuilder {
        switch content {
        case .empty:
            let c = DocumentBuilder()
            content = .object([key: c])
            return c
        case .object(var children):
            if let c = children[key] { return c }
            let c = DocumentBuilder()
            children[key] = c
            content = .object(children)
            return c
        default:
            throw DocumentBuilder.conflict(loc)
        }
    }

    func node(at path: [Value], _ loc: SourceLocation?) throws -> DocumentBuilder {
        var n = self
        for k in path { n = try n.child(k, loc) }
        return n
    }

    /// A single value at `path`.
    func insert(_ path: [Value], _ value: Value, _ loc: SourceLocation?) throws {
        let n = try node(at: path, loc)
        switch n.content {
        case .empty: n.content = .leaf(value)
        case .leaf(let v) where v == value: break
        default: throw DocumentBuilder.conflict(loc)
        }
    }

    /// An element of the set at `path` (or just the set, when `element` is nil).
    func insertElement(_ path: [Value], _ element: Value?, _ loc: SourceLocation?) throws {
        let n = try node(at: path, loc)
        switch n.content {
        case .empty: n.content = .set(element.map { [$0] } ?? [])
        case .set(var s):
            if let e = element { s.append(e); n.content = .set(s) }
        default: throw DocumentBuilder.conflict(loc)
        }
    }

    /// Makes sure an (empty) object exists here.
    func ensureObject() {
        if case .empty = content { content = .object([:]) }
    }

    var value: Value? {
        switch content {
        case .empty: return nil
        case .leaf(let v): return v
        case .set(let s): return .set(RegoSet(s))
        case .object(let children):
            return .object(RegoObject(children.compactMap { k, c in c.value.map { (k, $0) } }))
        }
    }
}
