import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Store
import Synchronization

/// The supervisor's HTTP forward proxy and CONNECT tunnel, served on sockets
/// that belong to one session each: a jail's loopback listener (exec, the
/// browser), or a fetch's connection to the fetch entrance. Which tenant a
/// connection belongs to is never asked of the client: it is where it came from.
final class EgressProxy: Sendable {
    let gate: EgressGate
    let settings: EgressSettings
    let metrics: ServiceMetrics
    let logger: Logger
    let accounts = EgressAccounts()
    private let group: any EventLoopGroup
    private let entrance = Mutex<Task<FetchEntrance, any Error>?>(nil)

    /// What the client may send before its connection is decided (head and body waiting).
    static let maxBufferedBytes = 1 << 20

    init(gate: EgressGate, settings: EgressSettings, metrics: ServiceMetrics, logger: Logger,
         group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.gate = gate
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        self.group = group
    }

    /// A session for one call's connections; close it when the call ends.
    func session(tenant: Tenant, via: String, requestID: String) -> EgressSession {
        EgressSession(tenant: tenant, via: via, requestID: requestID, accounts: accounts)
    }

    /// Serves the proxy on a listening socket (a jail's loopback listener)
    /// until the session ends. Takes the descriptor.
    func serve(listener fd: Int32, for session: EgressSession) async throws {
        let channel = try await ServerBootstrap(group: group)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [self] channel in configure(channel, session: session) }
            .withBoundSocket(fd)
            .get()
        if !session.track(channel, listener: true) { try await channel.close() }
    }

    /// The listener fetch's connections come in on (bound on first use).
    func fetchEntrance() async throws -> FetchEntrance {
        let opening = entrance.withLock { current in
            if let current { return current }
            let group = self.group
            let task = Task { try await FetchEntrance.open(for: self, group: group) }
            current = task
            return task
        }
        do {
            return try await opening.value
        } catch {
            entrance.withLock { $0 = nil }
            throw error
        }
    }

    /// Closes the fetch listener (the jails' listeners go with their sessions).
    func shutdown() async {
        let opening = entrance.withLock { $0 }
        await (try? opening?.value)?.close()
    }

    /// A client connection of `session`: one proxy request on it.
    func configure(_ channel: any Channel, session: EgressSession) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            // A session that has ended serves nothing more (NIO closes the channel).
            guard session.track(channel) else { throw ChannelError.ioOnClosedChannel }
            let decoder = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes),
                                               maximumBufferSize: Self.maxBufferedBytes)
            try channel.pipeline.syncOperations.addHandlers([
                decoder, ProxyRequestHandler(session: session, proxy: self, decoder: decoder)])
        }
    }

    /// A refused connection: counted, and logged with why (the audit log has the policy's decisions).
    func refused(_ error: APIError, session: EgressSession) {
        metrics.egressRefused(code: error.code)
        logger.info("egress connection refused", metadata: [
            "tenant_id": "\(session.tenant.id)", "request_id": "\(session.requestID)", "via": "\(session.via)",
            "code": "\(error.code)", "reason": "\(error.message)"])
    }
}
