import WorkerProtocol

/// A path relative to the workspace, checked by its letters: not absolute,
/// no `..`, no NUL. Symlinks are the kernel's part (openat2, see Workspace).
struct WorkspacePath: Sendable, Equatable {
    let components: [String]

    static let maxLength = 4096
    static let maxComponent = 255

    var relative: String { components.joined(separator: "/") }
    var isRoot: Bool { components.isEmpty }
    var name: String { components.last ?? "." }
    var parent: WorkspacePath { WorkspacePath(components: Array(components.dropLast())) }

    /// The workspace itself.
    static let root = WorkspacePath(components: [])

    private init(components: [String]) {
        self.components = components
    }

    /// - Parameter allowRoot: an empty path (the workspace itself) is allowed.
    init(_ raw: String, field: String = "path", allowRoot: Bool = false) throws(ErrorReply) {
        if raw.utf8.contains(0) {
            throw ErrorReply(.invalidRequest, "\(field) contains a NUL byte")
        }
        if raw.hasPrefix("/") {
            throw ErrorReply(.invalidRequest, "\(field) \"\(raw)\" is absolute; give a path relative to the workspace")
        }
        guard raw.utf8.count <= Self.maxLength else {
            throw ErrorReply(.invalidRequest, "\(field) is longer than \(Self.maxLength) bytes")
        }
        var parts: [String] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                throw ErrorReply(.invalidRequest, "\(field) \"\(raw)\" contains '..'; paths stay inside the workspace")
            }
            guard part.utf8.count <= Self.maxComponent else {
                throw ErrorReply(.invalidRequest, "\(field) has a name longer than \(Self.maxComponent) bytes")
            }
            parts.append(String(part))
        }
        if parts.isEmpty && !allowRoot {
            throw ErrorReply(.invalidRequest, "\(field) is empty; name a file in the workspace")
        }
        components = parts
    }

    func appending(_ name: String) -> WorkspacePath {
        WorkspacePath(components: components + [name])
    }
}
