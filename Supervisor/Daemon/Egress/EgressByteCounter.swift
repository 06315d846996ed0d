import NIOCore

/// First in the upstream connection's pipeline, so it sees the bytes as they
/// cross the wire both ways: counts them into the session (the tenant's
/// `egress.bytes.month`) and closes the connection once the tenant's hard
/// egress limit is used up.
final class EgressByteCounter: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let session: EgressSession
    private let budget: EgressBudget?

    init(session: EgressSession, budget: EgressBudget?) {
        self.session = session
        self.budget = budget
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        session.count(unwrapInboundIn(data).readableBytes)
        context.fireChannelRead(data)
        closeIfOverBudget(context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        session.count(unwrapOutboundIn(data).readableBytes)
        context.write(data, promise: promise)
        closeIfOverBudget(context)
    }

    private func closeIfOverBudget(_ context: ChannelHandlerContext) {
        guard let budget, budget.isExhausted, context.channel.isActive else { return }
        context.close(promise: nil)
    }
}
