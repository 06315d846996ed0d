#if canImport(Glibc)
import Glibc
#endif

/// One line on stderr, which the supervisor collects from the tenant jail.
enum Log {
    static func line(_ message: String) {
        let bytes = Array("warden-worker: \(message)\n".utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
}
