#if canImport(Glibc)
import Glibc
#endif
import WorkerProtocol

/// The per-tenant worker. The supervisor starts it inside the tenant jail
/// with its end of a socketpair as fd 3 and speaks the worker protocol on it;
/// fd 4, when present, is the egress channel (`EgressBridge`).
@main
struct WardenWorker {
    static let version = "0.1.0-dev"
    /// The socket the supervisor hands over.
    static let socketDescriptor: Int32 = 3

    static func main() {
        // Writes to a vanished supervisor must fail, not kill the worker.
        signal(SIGPIPE, SIG_IGN)
        var st = stat()
        guard fstat(socketDescriptor, &st) == 0, (st.st_mode & S_IFMT) == S_IFSOCK else {
            Log.line("fd \(socketDescriptor) is not a socket: warden-worker is started by warden serve, with its end of a socketpair as fd 3")
            _exit(2)
        }
        let session = Session(socket: FrameSocket(fd: socketDescriptor), egress: EgressBridge.fromSupervisor())
        _exit(session.run())
    }
}
