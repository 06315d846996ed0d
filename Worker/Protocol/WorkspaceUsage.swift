/// How a tenant's workspace is held.
public enum WorkspaceStorage: String, Sendable, Codable {
    /// A filesystem of its own whose size is the tenant's storage limit (root):
    /// its statfs is the usage, and the kernel refuses writes past it.
    case filesystem
    /// A directory of the host's filesystem (rootless): usage is a walk of it.
    case directory
}

/// `workspace.usage` takes no arguments.
public struct WorkspaceUsageArgs: Sendable, Codable, Equatable {
    public init() {}
}

/// How full the workspace is.
public struct WorkspaceUsage: Sendable, Codable, Equatable {
    /// Bytes the workspace's files take on disk (allocated blocks).
    public var usedBytes: Int
    /// The filesystem's size for files and what is left for writing (filesystem storage only).
    public var capacityBytes: Int?
    public var availableBytes: Int?
    /// False when a walk stopped at its bound before it saw every file (usedBytes is then a lower bound).
    public var complete: Bool

    public init(usedBytes: Int, capacityBytes: Int? = nil, availableBytes: Int? = nil, complete: Bool = true) {
        self.usedBytes = usedBytes
        self.capacityBytes = capacityBytes
        self.availableBytes = availableBytes
        self.complete = complete
    }

    enum CodingKeys: String, CodingKey {
        case complete
        case usedBytes = "used_bytes"
        case capacityBytes = "capacity_bytes"
        case availableBytes = "available_bytes"
    }
}
