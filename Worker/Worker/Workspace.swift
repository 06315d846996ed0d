#if canImport(Glibc)
import Glibc
#endif
import CWorker
import WorkerProtocol

/// The tenant's workspace, reached only through a descriptor of its root and
/// openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS: a path can neither climb
/// out nor pass through a symlink, whatever tenant code made of the tree.
final class Workspace: Sendable {
    /// The workspace as the worker sees it (the tool jails' bind source).
    let path: String
    let rootFd: Int32

    /// Files and directories the worker makes belong to the tool jails' user.
    static let ownerID: UInt32 = ExecTool.payloadID
    static let resolve = UInt64(WK_RESOLVE_BENEATH | WK_RESOLVE_NO_SYMLINKS | WK_RESOLVE_NO_MAGICLINKS | WK_RESOLVE_NO_XDEV)

    init(path: String) throws(ErrorReply) {
        let fd = open(path, O_DIRECTORY | O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ErrorReply(.internal, "the workspace \(path) cannot be opened: \(FileIO.errorText(errno))")
        }
        self.path = path
        rootFd = fd
    }

    deinit { close(rootFd) }

    /// openat2 below `directory` (the root by default). Returns the fd or throws the mapped error.
    func openBeneath(_ relative: String, flags: Int32, mode: mode_t = 0, below directory: Int32? = nil,
              shownAs shown: String) throws(ErrorReply) -> Int32 {
        let fd = openOrErrno(relative, flags: flags, mode: mode, below: directory)
        if fd < 0 { throw Self.failure(-fd, shown) }
        return fd
    }

    /// openat2 below `directory` (the root by default): the fd, or -errno. No O_NOFOLLOW:
    /// RESOLVE_NO_SYMLINKS already refuses a final symlink, with ELOOP even for O_DIRECTORY.
    func openOrErrno(_ relative: String, flags: Int32, mode: mode_t = 0, below directory: Int32? = nil) -> Int32 {
        wk_openat2(directory ?? rootFd, relative.isEmpty ? "." : relative, flags | O_CLOEXEC,
                   flags & O_CREAT != 0 ? mode : 0, Self.resolve)
    }

    /// The directory holding `path`, made (owned by the payload user) when `create` is set.
    func openParent(of path: WorkspacePath, create: Bool) throws(ErrorReply) -> Int32 {
        guard create else {
            return try openBeneath(path.parent.relative, flags: O_DIRECTORY | O_RDONLY, shownAs: path.relative)
        }
        var current = try openBeneath("", flags: O_DIRECTORY | O_RDONLY, shownAs: ".")
        var walked = WorkspacePath.root
        for component in path.components.dropLast() {
            walked = walked.appending(component)
            let made = mkdirat(current, component, 0o755) == 0
            if !made && errno != EEXIST {
                let err = errno
                close(current)
                throw Self.failure(err, walked.relative)
            }
            let next: Int32
            do {
                next = try openBeneath(component, flags: O_DIRECTORY | O_RDONLY, below: current, shownAs: walked.relative)
            } catch {
                close(current)
                throw error
            }
            close(current)
            current = next
            if made { _ = fchown(current, Self.ownerID, Self.ownerID) }
        }
        return current
    }

    /// Creates or replaces (or extends) a regular file; returns its size.
    func write(_ path: WorkspacePath, bytes: [UInt8], append: Bool) throws(ErrorReply) -> Int {
        let parent = try openParent(of: path, create: true)
        defer { close(parent) }
        // O_NONBLOCK: a FIFO planted by tenant code must not hang the worker.
        let flags = O_WRONLY | O_CREAT | O_NONBLOCK | (append ? O_APPEND : O_TRUNC)
        let fd = try openBeneath(path.name, flags: flags, mode: 0o644, below: parent, shownAs: path.relative)
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw ErrorReply(.invalidRequest, "\(path.relative) is not a regular file")
        }
        _ = fchown(fd, Self.ownerID, Self.ownerID)
        if let err = FileIO.writeAll(fd, bytes) { throw Self.failure(err, path.relative) }
        guard fstat(fd, &st) == 0 else { return bytes.count }
        return Int(st.st_size)
    }

    /// Opens a regular file for reading and returns it with its size.
    func openForReading(_ path: WorkspacePath) throws(ErrorReply) -> (fd: Int32, size: Int) {
        let fd = try openBeneath(path.relative, flags: O_RDONLY | O_NONBLOCK | O_NOCTTY, shownAs: path.relative)
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let err = errno
            close(fd)
            throw Self.failure(err, path.relative)
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return (fd, Int(st.st_size))
        case S_IFDIR:
            close(fd)
            throw ErrorReply(.invalidRequest, "\(path.relative) is a directory; list it with files.list")
        default:
            close(fd)
            throw ErrorReply(.invalidRequest, "\(path.relative) is not a regular file")
        }
    }

    /// What a failed system call on a workspace path means to the caller.
    static func failure(_ err: Int32, _ shown: String) -> ErrorReply {
        let name = shown.isEmpty ? "the workspace" : shown
        switch err {
        case ENOENT: return ErrorReply(.notFound, "\(name) does not exist in the workspace")
        case ELOOP: return ErrorReply(.invalidRequest, "\(name) goes through a symbolic link; the workspace API does not follow symlinks")
        case EXDEV: return ErrorReply(.invalidRequest, "\(name) leads out of the workspace")
        case ENOTDIR: return ErrorReply(.invalidRequest, "a part of \(name) is not a directory")
        case EISDIR: return ErrorReply(.invalidRequest, "\(name) is a directory")
        case ENOSPC, EDQUOT: return ErrorReply(.noSpace, "the workspace is full; delete files to make room")
        case EFBIG: return ErrorReply(.tooLarge, "\(name) would exceed the largest file size allowed")
        case ENAMETOOLONG: return ErrorReply(.invalidRequest, "\(name) is too long")
        case ENXIO, ETXTBSY: return ErrorReply(.invalidRequest, "\(name) is not a regular file")
        case EACCES, EPERM: return ErrorReply(.invalidRequest, "\(name) is not accessible (\(FileIO.errorText(err)))")
        case ENOTEMPTY, EEXIST: return ErrorReply(.invalidRequest, "\(name) already exists and is in the way")
        default: return ErrorReply(.internal, "\(name): \(FileIO.errorText(err))")
        }
    }
}
