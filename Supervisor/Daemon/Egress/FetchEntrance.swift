import NIOCore
import NIOPosix
import Synchronization

/// Where fetch's libcurl meets the egress proxy: one listener on the host's
/// 127.0.0.1 that serves a connection only when it comes from a local port
/// that a fetch bound for itself before connecting, and then as that fetch's
/// session. A port is held by one socket at a time, so no other process can
/// come from it; any other connection is closed unread.
final class FetchEntrance: Sendable {
    let port: Int
    private let channel: any Channel
    private let expected: Expected

    /// Sessions by the local port their connection will come from.
    private final class Expected: Sendable {
        let sessions = Mutex<[Int: EgressSession]>([:])
    }

    private init(channel: any Channel, expected: Expected) {
        self.channel = channel
        self.expected = expected
        port = channel.localAddress?.port ?? 0
    }

    static func open(for proxy: EgressProxy, group: any EventLoopGroup) async throws -> FetchEntrance {
        let expected = Expected()
        let channel = try await ServerBootstrap(group: group)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                guard let port = channel.remoteAddress?.port, channel.remoteAddress?.ipAddress == "127.0.0.1",
                      let session = expected.sessions.withLock({ $0.removeValue(forKey: port) }) else {
                    return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                }
                return proxy.configure(channel, session: session)
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return FetchEntrance(channel: channel, expected: expected)
    }

    /// The next connection from 127.0.0.1:`port` belongs to `session`.
    func expect(_ port: Int, for session: EgressSession) {
        expected.sessions.withLock { $0[port] = session }
    }

    /// `port` is no longer a fetch's (its socket closed, or never connected).
    func forget(_ port: Int) {
        _ = expected.sessions.withLock { $0.removeValue(forKey: port) }
    }

    func close() async {
        try? await channel.close()
    }
}
