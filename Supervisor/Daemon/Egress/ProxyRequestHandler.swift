import NIOCore
import NIOHTTP1
import NIOPosix

/// One client connection to the proxy. It reads one request: `CONNECT
/// host:port` becomes a tunnel of raw bytes, an absolute `http://` request is
/// forwarded (origin form, `Connection: close`) and its response relayed raw.
/// Either way the gate decides first, and the connection goes to exactly the
/// address it judged; a refusal is answered in the API's error shape.
final class ProxyRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingHead
        /// A CONNECT head came; its end comes next.
        case awaitingConnectEnd(ProxyTarget)
        /// Decided and connected meanwhile; a forwarded request's body waits here.
        /// (After a CONNECT the decoder stops parsing and holds what follows.)
        case deciding(ProxyTarget, head: HTTPRequestHead, pending: [HTTPServerRequestPart], ended: Bool)
        case forwarding(upstream: any Channel, ended: Bool)
        /// Refused, tunnelled (this handler is about to leave), or done.
        case finished
    }

    /// What the client may send while its connection is being decided.
    static let maxPendingBytes = 1 << 20

    private var state = State.awaitingHead
    private var pendingBytes = 0
    private let session: EgressSession
    private let proxy: EgressProxy
    private let decoder: ByteToMessageHandler<HTTPRequestDecoder>

    init(session: EgressSession, proxy: EgressProxy, decoder: ByteToMessageHandler<HTTPRequestDecoder>) {
        self.session = session
        self.proxy = proxy
        self.decoder = decoder
    }

    func channelActive(context: ChannelHandlerContext) {
        let account = session.account
        let open = account.connections.add(1, ordering: .relaxed).newValue
        context.channel.closeFuture.whenComplete { _ in account.connections.subtract(1, ordering: .relaxed) }
        if open > proxy.settings.maxConnections {
            refuse(APIError(.serviceUnavailable, code: "too_many_connections",
                            message: "tenant \(session.tenant.id) has \(proxy.settings.maxConnections) connections open through the egress proxy (egress.max_connections); close some first"),
                   context: context)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .awaitingHead:
            guard case .head(let head) = unwrapInboundIn(data) else { return context.close(promise: nil) }
            let target: ProxyTarget
            do {
                target = try ProxyTarget(head)
            } catch {
                return refuse(APIError.invalidRequest(error.message), context: context)
            }
            if target.kind == .tunnel {
                state = .awaitingConnectEnd(target)
            } else {
                state = .deciding(target, head: head, pending: [], ended: false)
                decide(target, context: context)
            }
        case .awaitingConnectEnd(let target):
            guard case .end = unwrapInboundIn(data) else {
                return refuse(APIError.invalidRequest("a CONNECT request has no body"), context: context)
            }
            // Raw bytes follow (a TLS handshake); the decoder holds them until the tunnel is up.
            state = .deciding(target, head: HTTPRequestHead(version: .http1_1, method: .CONNECT, uri: ""), pending: [], ended: true)
            decide(target, context: context)
        case .deciding(let target, let head, var pending, var ended):
            guard target.kind == .forward else { return context.close(promise: nil) }
            let part = unwrapInboundIn(data)
            switch part {
            case .head: return context.close(promise: nil)
            case .body(let buffer): pendingBytes += buffer.readableBytes
            case .end: ended = true
            }
            guard pendingBytes <= Self.maxPendingBytes else {
                return refuse(APIError(.contentTooLarge, code: "body_too_large",
                                       message: "the client sent more than \(Self.maxPendingBytes) bytes before its connection was decided"),
                              context: context)
            }
            pending.append(part)
            state = .deciding(target, head: head, pending: pending, ended: ended)
        case .forwarding(let upstream, let ended):
            guard !ended else {
                // A second request on this connection: the proxy forwards one per connection.
                return context.close(promise: nil)
            }
            let part = unwrapInboundIn(data)
            forward(part, to: upstream)
            if case .end = part { state = .forwarding(upstream: upstream, ended: true) }
        case .finished:
            break
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // The upstream response goes only as fast as the client takes it.
        if case .forwarding(let upstream, _) = state {
            upstream.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .forwarding(let upstream, _) = state { upstream.close(promise: nil) }
        state = .finished
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .awaitingHead = state {
            refuse(APIError.invalidRequest("the proxy request is not valid HTTP/1.1: \(error)"), context: context)
        } else {
            context.close(promise: nil)
        }
    }

    // MARK: deciding and connecting

    private func decide(_ target: ProxyTarget, context: ChannelHandlerContext) {
        let gate = proxy.gate, session = self.session
        let verdict = context.eventLoop.makePromise(of: EgressGate.Verdict.self)
        verdict.completeWithTask { await gate.decide(target, session: session) }
        verdict.futureResult.assumeIsolated().whenSuccess { [self] verdict in
            switch verdict {
            case .refuse(let error): refuse(error, context: context)
            case .connect(let address, let budget): connect(target, to: address, budget: budget, context: context)
            }
        }
    }

    private func connect(_ target: ProxyTarget, to address: SocketAddress, budget: EgressBudget?,
                         context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        let session = self.session
        proxy.metrics.egressConnect(result: "attempted")
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(.milliseconds(Int64(proxy.settings.connectTimeoutMs)))
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: target.kind == .tunnel)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(EgressByteCounter(session: session, budget: budget))
                }
            }
            .connect(to: address)
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .failure(let error):
                    proxy.metrics.egressConnect(result: "failed")
                    var timedOut = false
                    if case ChannelError.connectTimeout = error { timedOut = true }
                    refuse(APIError(timedOut ? .gatewayTimeout : .badGateway, code: timedOut ? "connect_timeout" : "connect_failed",
                                    message: "\(target.host) (\(address.ipAddress ?? "?")) port \(target.port) did not accept the connection: \(error)"),
                           context: context)
                case .success(let upstream):
                    proxy.metrics.egressConnect(result: "connected")
                    guard session.track(upstream), context.channel.isActive else {
                        upstream.close(promise: nil)
                        return context.close(promise: nil)
                    }
                    do {
                        if target.kind == .tunnel { try tunnel(to: upstream, context: context) } else { try startForwarding(target, to: upstream, context: context) }
                    } catch {
                        upstream.close(promise: nil)
                        context.close(promise: nil)
                    }
                }
            }
    }

    /// CONNECT: answer 200, then glue the two connections. This handler leaves
    /// first, then the decoder, passing what the client sent meanwhile to the glue.
    private func tunnel(to upstream: any Channel, context: ChannelHandlerContext) throws {
        state = .finished
        context.writeAndFlush(wrapOutboundOut(ProxyResponse.tunnelEstablished), promise: nil)
        let (local, remote) = GlueHandler.matchedPair()
        try context.pipeline.syncOperations.addHandler(local)
        try upstream.pipeline.syncOperations.addHandler(remote)
        let pipeline = context.pipeline.syncOperations
        pipeline.removeHandler(context: context, promise: nil)
        pipeline.removeHandler(decoder, promise: nil)
    }

    /// An http:// request: the head in origin form to the origin, then the
    /// body as it comes; the response comes back raw until the origin closes.
    private func startForwarding(_ target: ProxyTarget, to upstream: any Channel, context: ChannelHandlerContext) throws {
        guard case .deciding(_, let head, let pending, let ended) = state else { return }
        try upstream.pipeline.syncOperations.addHandlers([HTTPRequestEncoder(), ResponseRelay(client: context.channel)])
        upstream.write(HTTPClientRequestPart.head(Self.forwardedHead(head, target: target)), promise: nil)
        for part in pending { forward(part, to: upstream) }
        upstream.flush()
        state = .forwarding(upstream: upstream, ended: ended)
    }

    private func forward(_ part: HTTPServerRequestPart, to upstream: any Channel) {
        switch part {
        case .head: return
        case .body(let buffer): upstream.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil)
        case .end(let trailers): upstream.writeAndFlush(HTTPClientRequestPart.end(trailers), promise: nil)
        }
    }

    /// The request as the origin gets it: origin-form target, the URL's own
    /// Host, hop-by-hop and proxy headers gone, and one request per connection.
    static func forwardedHead(_ head: HTTPRequestHead, target: ProxyTarget) -> HTTPRequestHead {
        var headers = head.headers
        let listed: [String] = headers[canonicalForm: "connection"].map { $0.lowercased() }
        for name in ["connection", "proxy-connection", "proxy-authorization", "keep-alive", "te", "trailer", "upgrade"] + listed {
            headers.remove(name: name)
        }
        headers.replaceOrAdd(name: "Host", value: target.authority)
        headers.add(name: "Connection", value: "close")
        return HTTPRequestHead(version: .http1_1, method: head.method, uri: target.originForm, headers: headers)
    }

    private func refuse(_ error: APIError, context: ChannelHandlerContext) {
        state = .finished
        session.recordRefusal(error)
        proxy.refused(error, session: session)
        context.writeAndFlush(wrapOutboundOut(ProxyResponse.refusal(error))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

/// The response of a forwarded request, passed raw from the origin to the
/// client, as fast as the client takes it; the client's connection closes
/// with the origin's.
final class ResponseRelay: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let client: any Channel

    init(client: any Channel) {
        self.client = client
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        client.write(unwrapInboundIn(data), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        client.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        client.writeAndFlush(ByteBuffer()).whenComplete { [client] _ in client.close(promise: nil) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        client.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
