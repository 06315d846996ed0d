#if canImport(Glibc)
import Glibc
#endif

/// Small descriptor helpers shared by the tools.
enum FileIO {
    /// Writes every byte; returns the errno of a failure, or nil.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { raw in write(fd, raw.baseAddress.map { $0 + done }, raw.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            done += n
        }
        return nil
    }

    /// Reads up to `limit` bytes (to the end of the file); returns the errno of a failure.
    static func readAll(_ fd: Int32, limit: Int) -> Result<[UInt8], ReadFailure> {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while out.count < limit {
            let want = min(chunk.count, limit - out.count)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, want) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(ReadFailure(errno: errno))
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return .success(out)
    }

    struct ReadFailure: Error { var errno: Int32 }

    /// The name of a directory entry.
    static func name(of entry: UnsafeMutablePointer<dirent>) -> String {
        withUnsafePointer(to: &entry.pointee.d_name) { tuple in
            tuple.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)) {
                String(cString: $0)
            }
        }
    }

    static func errorText(_ err: Int32) -> String {
        guard let text = strerror(err) else { return "errno \(err)" }
        return String(cString: text)
    }
}
