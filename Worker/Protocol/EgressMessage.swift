/// What the worker says on its egress channel (a SOCK_SEQPACKET socket, the
/// worker's fd 4): here is a jail's loopback listener, to be served as the
/// egress proxy for `tag` (the listener rides along as SCM_RIGHTS), or the
/// jail of `tag` has ended. One message per packet: a kind byte, then the tag.
public enum EgressMessage: Sendable, Equatable {
    case listener(tag: String)
    case release(tag: String)

    /// Tags are short names: `call-17` for a call's tool jail.
    public static let maxTagBytes = 128

    public var tag: String {
        switch self {
        case .listener(let tag), .release(let tag): return tag
        }
    }

    public var bytes: [UInt8] {
        switch self {
        case .listener(let tag): return [UInt8(ascii: "L")] + Array(tag.utf8)
        case .release(let tag): return [UInt8(ascii: "R")] + Array(tag.utf8)
        }
    }

    /// nil for a packet that is not a message (unknown kind, empty or overlong tag, not UTF-8).
    public init?(bytes: [UInt8]) {
        guard let kind = bytes.first, bytes.count > 1, bytes.count <= 1 + Self.maxTagBytes,
              let tag = String(validating: bytes.dropFirst(), as: UTF8.self) else { return nil }
        switch kind {
        case UInt8(ascii: "L"): self = .listener(tag: tag)
        case UInt8(ascii: "R"): self = .release(tag: tag)
        default: return nil
        }
    }
}

/// The tags both sides agree on.
public enum EgressTag {
    /// The tool jail of one call (its id on the worker's connection).
    public static func call(_ id: UInt32) -> String { "call-\(id)" }
}
