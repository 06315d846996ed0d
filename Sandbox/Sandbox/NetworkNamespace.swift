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

    deinit { close(fileDescriptor) }
}
