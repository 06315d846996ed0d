import Foundation
import Logging
import Sandbox
#if canImport(Glibc)
import Glibc
#endif

/// Has Chromium's files read into the page cache from the supervisor's own
/// cgroup. A file's page cache is charged to the cgroup that first reads it:
/// without this the first tenant to start a browser would pay for some
/// 280 MiB of the cache, against its own memory limit.
enum BrowserWarmup {
    /// Every file beside `binary` (its libraries and resources), on a thread of its own.
    static func start(binary: String, logger: Logger) {
        let directory = (binary as NSString).deletingLastPathComponent
        _ = DetachedThread.start {
            let began = Date()
            let bytes = read(directory: directory)
            logger.info("browser files asked into the page cache", metadata: [
                "directory": "\(directory)", "bytes": "\(bytes)",
                "ms": "\(Int(Date().timeIntervalSince(began) * 1000))"])
        }
    }

    /// Asks the kernel to read each file into the page cache (in this
    /// process's cgroup); files already there cost nothing. Returns their bytes.
    private static func read(directory: String) -> Int {
        var total = 0
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let name = enumerator?.nextObject() as? String {
            let fd = open(directory + "/" + name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            _ = posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED)
            total += Int(st.st_size)
        }
        return total
    }
}
