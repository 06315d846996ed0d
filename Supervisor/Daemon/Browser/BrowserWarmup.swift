import Foundation
import Logging
import Sandbox
#if canImport(Glibc)
import Glibc
#endif

/// Reads Chromium's files once, from the supervisor's own cgroup. A file's
/// page cache is charged to the cgroup that first reads it: without this the
/// first tenant to start a browser would pay for some 280 MiB of the cache,
/// against its own memory limit.
enum BrowserWarmup {
    /// Reads every file beside `binary` (its libraries and resources) on a thread of its own.
    static func start(binary: String, logger: Logger) {
        let directory = (binary as NSString).deletingLastPathComponent
        _ = DetachedThread.start {
            let began = Date()
            let bytes = read(directory: directory)
            logger.info("browser files read into the page cache", metadata: [
                "directory": "\(directory)", "bytes": "\(bytes)",
                "ms": "\(Int(Date().timeIntervalSince(began) * 1000))"])
        }
    }

    private static func read(directory: String) -> Int {
        var total = 0
        let enumerator = FileManager.default.enumerator(atPath: directory)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while let name = enumerator?.nextObject() as? String {
            let fd = open(directory + "/" + name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                total += n
            }
        }
        return total
    }
}
