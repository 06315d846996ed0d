import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One daemon per state directory: an exclusive flock held for the life of
/// the process. The kernel drops it when the process dies, even after -9.
public final class StateLock: Sendable {
    private let descriptor: Int32

    public init(path: String) throws {
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw POSIXFailure("cannot open lock file \(path)") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(descriptor)
            if code == EWOULDBLOCK {
                throw ConfigurationError(
                    "another warden serve is already running with this state directory (\(path) is locked); "
                        + "stop it first or choose another --state-dir")
            }
            throw POSIXFailure("cannot lock \(path)", errno: code)
        }
        self.descriptor = descriptor
    }

    /// Lets another daemon take over once this one has stopped serving;
    /// harmless to call twice.
    public func release() {
        flock(descriptor, LOCK_UN)
    }

    deinit {
        close(descriptor)
    }
}
