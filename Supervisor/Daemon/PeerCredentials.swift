import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// The kernel's `struct ucred` for SO_PEERCRED. Glibc declares it only under
/// _GNU_SOURCE, which Swift's Glibc module does not set, so it is mirrored
/// here: three 32-bit fields, in the kernel's order.
public struct PeerCredentials: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    /// Who connected to a Unix socket channel, as the kernel recorded it at connect().
    public static func of(_ channel: any Channel) async throws -> PeerCredentials {
        guard let provider = channel as? any SocketOptionProvider else {
            throw PeerCredentialsError.notASocket
        }
        return try await provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED)).get()
    }
}

enum PeerCredentialsError: Error, CustomStringConvertible {
    case notASocket
    var description: String { "the admin connection is not a socket, so its peer cannot be checked" }
}

/// Who may use the admin API: root, and the user the daemon runs as.
public struct AdminPeerPolicy: Sendable, Equatable {
    public var daemonUID: UInt32

    public init(daemonUID: UInt32 = geteuid()) {
        self.daemonUID = daemonUID
    }

    public func allows(_ peer: PeerCredentials) -> Bool {
        peer.uid == 0 || peer.uid == daemonUID
    }
}
