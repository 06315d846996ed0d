import CSandbox
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Lets another thread end a running jail (a cancelled call, a worker
/// shutting down). Cancelling before the jail starts makes it end at once.
public final class JailCancellation: Sendable {
    private let state = Mutex<(pidfd: Int32, cancelled: Bool, pid: Int32?)>((-1, false, nil))

    public init() {}

    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// The host pid of the jail's init while it runs (for operators' listings).
    public var initPID: Int32? { state.withLock { $0.pid } }

    /// Kills the whole jail (its init, and with it every process inside).
    public func cancel() {
        state.withLock { s in
            s.cancelled = true
            if s.pidfd >= 0 { _ = wd_pidfd_signal(s.pidfd, SIGKILL) }
        }
    }

    func attach(_ pidfd: Int32, pid: Int32) {
        state.withLock { s in
            s.pidfd = pidfd
            s.pid = pid
            if s.cancelled { _ = wd_pidfd_signal(pidfd, SIGKILL) }
        }
    }

    func detach() { state.withLock { $0.pidfd = -1; $0.pid = nil } }
}
