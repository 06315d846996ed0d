/// `files.list`: entries whose workspace-relative path starts with `prefix`.
public struct FilesListArgs: Sendable, Codable, Equatable {
    public var prefix: String?
    public init(prefix: String? = nil) { self.prefix = prefix }
}

public struct FileEntry: Sendable, Codable, Equatable {
    public var path: String
    /// "file", "dir" or "symlink" (symlinks are listed, never followed).
    public var type: String
    public var size: Int
    public var modifiedMs: Int64

    public init(path: String, type: String, size: Int, modifiedMs: Int64) {
        self.path = path
        self.type = type
        self.size = size
        self.modifiedMs = modifiedMs
    }

    enum CodingKeys: String, CodingKey {
        case path, type, size
        case modifiedMs = "modified_ms"
    }
}

public struct FilesListResult: Sendable, Codable, Equatable {
    /// Sorted by path; at most `FilesLimits.maxListEntries`.
    public var entries: [FileEntry]
    /// True when more entries matched than the list holds.
    public var truncated: Bool

    public init(entries: [FileEntry], truncated: Bool) {
        self.entries = entries
        self.truncated = truncated
    }
}

public struct FilesReadArgs: Sendable, Codable, Equatable {
    public var path: String
    /// Send the bytes as STDOUT frames and leave `content` out of the RESULT:
    /// the way to read a file larger than `FilesLimits.maxReadBytesPerFrame`.
    public var stream: Bool?
    public init(path: String, stream: Bool? = nil) {
        self.path = path
        self.stream = stream
    }
}

public struct FilesReadResult: Sendable, Codable, Equatable {
    public var path: String
    public var size: Int
    /// The file's bytes in base64; absent when they were streamed.
    public var content: String?
    public var encoding: String

    public init(path: String, size: Int, content: String?, encoding: String = "base64") {
        self.path = path
        self.size = size
        self.content = content
        self.encoding = encoding
    }
}

public struct FilesWriteArgs: Sendable, Codable, Equatable {
    public var path: String
    public var content: String
    /// "utf8" (the default) or "base64".
    public var encoding: String?
    /// Add to the end of the file instead of replacing it (to send a file
    /// larger than one frame in pieces).
    public var append: Bool?

    public init(path: String, content: String, encoding: String? = nil, append: Bool? = nil) {
        self.path = path
        self.content = content
        self.encoding = encoding
        self.append = append
    }
}

public struct FilesWriteResult: Sendable, Codable, Equatable {
    public var path: String
    /// The file's size after the write.
    public var size: Int
    public init(path: String, size: Int) {
        self.path = path
        self.size = size
    }
}

public struct FilesDeleteArgs: Sendable, Codable, Equatable {
    public var path: String
    public init(path: String) { self.path = path }
}

public struct FilesDeleteResult: Sendable, Codable, Equatable {
    public var path: String
    public var deleted: Bool
    public init(path: String, deleted: Bool = true) {
        self.path = path
        self.deleted = deleted
    }
}

public enum FilesLimits {
    /// `files.read` refuses larger files with `too_large`.
    public static let maxReadBytes = 16 << 20
    /// The largest file whose base64 content fits in one RESULT frame with room to spare.
    public static let maxReadBytesPerFrame = (Frame.maxPayload - 4096) / 4 * 3
    public static let maxListEntries = 10_000
}
