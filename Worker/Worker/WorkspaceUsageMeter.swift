#if canImport(Glibc)
import Glibc
#endif
import WorkerProtocol

/// `workspace.usage`: how full the workspace is. A workspace that is a
/// filesystem of its own answers with its statfs at once; a directory is
/// walked (never following symlinks), up to a bound of entries so that a
/// tenant with a million files cannot make every call slow.
enum WorkspaceUsageMeter {
    static let maxEntries = 200_000

    static func measure(_ workspace: Workspace, storage: WorkspaceStorage) throws(ErrorReply) -> WorkspaceUsage {
        switch storage {
        case .filesystem:
            var st = statvfs()
            guard fstatvfs(workspace.rootFd, &st) == 0 else {
                throw ErrorReply(.internal, "statvfs of the workspace failed: \(FileIO.errorText(errno))")
            }
            let unit = Int(st.f_frsize)
            // f_blocks leaves out the filesystem's own records (journal, inode tables):
            // what is counted is what the files take.
            return WorkspaceUsage(usedBytes: Int(st.f_blocks - st.f_bfree) * unit, capacityBytes: Int(st.f_blocks) * unit,
                                  availableBytes: Int(st.f_bavail) * unit)
        case .directory:
            var walk = Walk()
            // A descriptor of its own: a dup would share (and leave at the end) the root's read position.
            let fd = workspace.openOrErrno("", flags: O_DIRECTORY | O_RDONLY)
            guard fd >= 0 else { throw ErrorReply(.internal, "the workspace cannot be read: \(FileIO.errorText(-fd))") }
            walk.visit(fd, depth: 0)
            return WorkspaceUsage(usedBytes: walk.bytes, complete: !walk.cut)
        }
    }

    private struct Walk {
        var bytes = 0
        var entries = 0
        var cut = false

        /// Adds up the allocated bytes below the directory `fd` (closed here).
        mutating func visit(_ fd: Int32, depth: Int) {
            guard let dir = fdopendir(fd) else {
                close(fd)
                return
            }
            defer { closedir(dir) }
            let dfd = dirfd(dir)
            while let entry = readdir(dir) {
                let name = FileIO.name(of: entry)
                if name == "." || name == ".." { continue }
                entries += 1
                if entries > WorkspaceUsageMeter.maxEntries || depth >= WorkspaceListing.maxDepth {
                    cut = true
                    return
                }
                var st = stat()
                guard fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                bytes += Int(st.st_blocks) * 512
                guard st.st_mode & S_IFMT == S_IFDIR else { continue }
                let child = openat(dfd, name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                if child >= 0 { visit(child, depth: depth + 1) }
                if cut { return }
            }
        }
    }
}
