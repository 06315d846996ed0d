import NIOCore

/// Closes a connection as soon as its client stops sending. The tenant API
/// allows half-closed connections, so a client that hangs up shows only as
/// the end of its input; closing the channel then is what lets a running
/// call see (`Channel.isActive`) that nobody waits for its answer any more.
/// A client that half-closes on purpose and still waits for the answer
/// loses it, as it would behind most proxies.
final class ClientDisconnectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Any

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }
}
