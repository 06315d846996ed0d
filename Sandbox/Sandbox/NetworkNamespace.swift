import CSandbox
#if canImport(Glibc)
import Glibc
#endif

/// A network namespace with only loopback up, made once and joined by many
/// jails (a new one per run costs milliseconds). Needs root.
public final class NetworkNamespace: Sendable {
    public let fileDescriptor: Int32

    public init() throws(SandboxError) {
        var fd: Int32 = -1
        SpawnThread.shared.perform { fd = wd_netns_create() }
        if fd < 0 { throw SandboxError.system("create network namespace", errno: -fd) }
        fileDescriptor = fd
    }

    /// A path that opens this namespace, for `Network.join(path:)`.
    public var path: String { "/proc/\(getpid())/fd/\(fileDescriptor)" }

    /// A TCP socket listening on this namespace's 127.0.0.1 (`port` 0: a free
    /// one the kernel picks) and the port it got. The socket is the caller's.
    public func listen(port: UInt16 = 0) throws(SandboxError) -> (fd: Int32, port: UInt16) {
        var fd: Int32 = -1
        var bound: UInt16 = 0
        SpawnThread.shared.perform { fd = wd_netns_listen(fileDescriptor, port, &bound) }
        if fd < 0 { throw SandboxError.system("listen on 127.0.0.1:\(port) in a network namespace", errno: -fd) }
        return (fd, bound)
    }

    deinit { close(fileDescriptor) }
}
