#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import WorkerProtocol

/// A page's own way to the egress proxy: a socket listening on the browser's
/// loopback, which the page's browser context uses as its proxy. It is lent
/// to the supervisor for the one call that uses the page (and served for that
/// call's egress session, so every connection is decided and counted as the
/// call's), or closed, so that a page without the network is refused at once.
final class PageProxy: Sendable {
    let port: UInt16
    private let state: Mutex<(fd: Int32, lentAs: String?)>

    init(fd: Int32, port: UInt16) {
        self.port = port
        state = Mutex((fd, nil))
    }

    /// What the page's context is told to use.
    var server: String { "http://127.0.0.1:\(port)" }

    /// Gives the listener to the supervisor under the call's tag.
    func lend(to bridge: EgressBridge, tag: String) throws(ErrorReply) {
        let fd = state.withLock { s -> Int32 in
            defer { s = (-1, tag) }
            return s.fd
        }
        guard fd >= 0 else { throw ErrorReply(.internal, "the page's proxy listener was already used") }
        try bridge.lend(listener: fd, tag: tag)
    }

    /// Closes the listener if it is still ours, or tells the supervisor the call is done with it.
    func close(bridge: EgressBridge?) {
        let (fd, lentAs) = state.withLock { s -> (Int32, String?) in
            defer { s = (-1, nil) }
            return s
        }
        if fd >= 0 { Glibc.close(fd) }
        if let lentAs { bridge?.release(tag: lentAs) }
    }

    deinit {
        let fd = state.withLock { $0.fd }
        if fd >= 0 { Glibc.close(fd) }
    }
}
