#if canImport(Glibc)
import Glibc
#endif
import WorkerProtocol

/// `files.list`: a recursive walk below the prefix's directory through
/// descriptors, never following a symlink, stopping at the entry limit.
enum WorkspaceListing {
    static let maxDepth = 256

    static func list(_ workspace: Workspace, prefix raw: String) throws(ErrorReply) -> (entries: [FileEntry], truncated: Bool) {
        let prefix = try WorkspacePath(raw, field: "prefix", allowRoot: true)
        // "dir/" lists inside dir; "dir/na" lists what starts with "na" in dir.
        let namesWholeDirectory = prefix.isRoot || raw.hasSuffix("/")
        let base = namesWholeDirectory ? prefix : prefix.parent
        let namePrefix = namesWholeDirectory ? "" : prefix.name
        let fd = workspace.openOrErrno(base.relative, flags: O_DIRECTORY | O_RDONLY)
        if fd < 0 {
            // A prefix that names nothing lists nothing; a symlink on the way is still refused.
            if -fd == ENOENT || -fd == ENOTDIR { return ([], false) }
            throw Workspace.failure(-fd, base.relative)
        }
        var walk = Walk()
        walk.visit(fd, at: base, namePrefix: namePrefix, depth: 0)
        walk.entries.sort { $0.path < $1.path }
        return (walk.entries, walk.truncated)
    }

    private struct Walk {
        var entries: [FileEntry] = []
        var truncated = false

        /// Lists the directory `fd` (closed here) whose workspace path is `path`.
        mutating func visit(_ fd: Int32, at path: WorkspacePath, namePrefix: String, depth: Int) {
            guard let dir = fdopendir(fd) else {
                close(fd)
                return
            }
            defer { closedir(dir) }
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = FileIO.name(of: entry)
                if name == "." || name == ".." || !name.hasPrefix(namePrefix) { continue }
                names.append(name)
            }
            names.sort()
            let dfd = dirfd(dir)
            for name in names {
                if entries.count >= FilesLimits.maxListEntries {
                    truncated = true
                    return
                }
                var st = stat()
                guard fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                let type: String
                switch st.st_mode & S_IFMT {
                case S_IFREG: type = "file"
                case S_IFDIR: type = "dir"
                case S_IFLNK: type = "symlink"
                default: continue // FIFOs, sockets: nothing the files API can read or write
                }
                let entryPath = path.appending(name)
                let modified = Int64(st.st_mtim.tv_sec) * 1000 + Int64(st.st_mtim.tv_nsec) / 1_000_000
                entries.append(FileEntry(path: entryPath.relative, type: type, size: Int(st.st_size), modifiedMs: modified))
                guard type == "dir" else { continue }
                guard depth < WorkspaceListing.maxDepth else {
                    truncated = true
                    continue
                }
                let child = openat(dfd, name, O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                if child >= 0 { visit(child, at: entryPath, namePrefix: "", depth: depth + 1) }
            }
        }
    }
}
