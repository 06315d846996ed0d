#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import WorkerProtocol

/// Private directories in the worker's own /tmp that hold each call's code;
/// the tool jail sees one of them read-only.
final class CodeDirectories: Sendable {
    let root: String
    private let counter = Atomic<UInt64>(0)

    init(root: String) {
        self.root = root
        mkdir(root, 0o711)
    }

    /// Writes `code` as `name` in a fresh directory and returns the directory.
    func create(name: String, code: String) throws(ErrorReply) -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        let dir = "\(root)/\(n)"
        guard mkdir(dir, 0o755) == 0 else {
            throw ErrorReply(.internal, "could not create \(dir) for the call's code (errno \(errno))")
        }
        let fd = open("\(dir)/\(name)", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let err = errno
            remove(dir)
            throw ErrorReply(err == ENOSPC ? .noSpace : .internal, "could not write the call's code (errno \(err))")
        }
        defer { close(fd) }
        if let err = FileIO.writeAll(fd, Array(code.utf8)) {
            remove(dir)
            throw ErrorReply(err == ENOSPC ? .noSpace : .internal,
                             err == ENOSPC ? "the worker's /tmp is full: the code does not fit" : "could not write the call's code (errno \(err))")
        }
        return dir
    }

    /// Removes a call's directory and the files in it (it holds no subdirectories).
    func remove(_ dir: String) {
        if let d = opendir(dir) {
            while let entry = readdir(d) {
                let name = FileIO.name(of: entry)
                if name != "." && name != ".." { unlink("\(dir)/\(name)") }
            }
            closedir(d)
        }
        rmdir(dir)
    }
}
