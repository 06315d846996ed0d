#if canImport(Glibc)
import Glibc
#endif
import WorkerProtocol

/// `files.delete`: a file, a symlink (the link, never its target) or a whole
/// directory tree, removed through descriptors so that nothing outside the
/// workspace can be reached, even if tenant code swaps names meanwhile.
enum WorkspaceRemoval {
    static let maxDepth = 512

    static func remove(_ path: WorkspacePath, in workspace: Workspace) throws(ErrorReply) {
        let parent = try workspace.openParent(of: path, create: false)
        defer { close(parent) }
        var st = stat()
        guard fstatat(parent, path.name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            throw Workspace.failure(errno, path.relative)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            try removeTree(parent, path.name, shown: path.relative, depth: 0)
        } else if unlinkat(parent, path.name, 0) != 0 {
            throw Workspace.failure(errno, path.relative)
        }
    }

    private static func removeTree(_ parent: Int32, _ name: String, shown: String, depth: Int) throws(ErrorReply) {
        guard depth < maxDepth else {
            throw ErrorReply(.invalidRequest, "\(shown) is nested more than \(maxDepth) levels deep; delete its deeper parts first")
        }
        let fd = openat(parent, name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw Workspace.failure(errno, shown) }
        guard let dir = fdopendir(fd) else {
            close(fd)
            throw Workspace.failure(errno, shown)
        }
        var names: [String] = []
        while let entry = readdir(dir) {
            let n = FileIO.name(of: entry)
            if n != "." && n != ".." { names.append(n) }
        }
        let dfd = dirfd(dir)
        do throws(ErrorReply) {
            for child in names {
                var st = stat()
                guard fstatat(dfd, child, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                if (st.st_mode & S_IFMT) == S_IFDIR {
                    try removeTree(dfd, child, shown: shown + "/" + child, depth: depth + 1)
                } else if unlinkat(dfd, child, 0) != 0, errno != ENOENT {
                    throw Workspace.failure(errno, shown + "/" + child)
                }
            }
        } catch {
            closedir(dir)
            throw error
        }
        closedir(dir)
        if unlinkat(parent, name, AT_REMOVEDIR) != 0, errno != ENOENT {
            throw Workspace.failure(errno, shown)
        }
    }
}
