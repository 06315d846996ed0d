import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// An HTTP/1.1 server on 127.0.0.1 for the egress tests, on SwiftNIO. It
/// counts the bytes on its wire (what the proxy sent it and what it sent
/// back: exactly what the proxy should count) and records each request.
///
/// Pages: `/text/WORD` ("hello WORD\n"), `/bytes/N` (N bytes, i % 251),
/// `/echo` (the request body back), `/redirect/K` (302 K times, then
/// "arrived\n"), `/to?url=U` (302 to U), `/hang` (never answers), `/html/NAME`
/// (a page given to `serve(_:html:)`, as text/html).
final class TestWebServer: Sendable {
    struct Request: Sendable {
        var method: String
        var uri: String
        var host: String
        var body: [UInt8]
    }

    let port: Int
    private let channel: any Channel
    private let received = NIOLockedValueBox<Int>(0)
    private let sent = NIOLockedValueBox<Int>(0)
    private let log = NIOLockedValueBox<[Request]>([])
    private let documents = NIOLockedValueBox<[String: String]>([:])

    private init(channel: any Channel) {
        self.channel = channel
        port = channel.localAddress?.port ?? 0
    }

    static func start() async throws -> TestWebServer {
        let box = NIOLockedValueBox<TestWebServer?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let server = box.withLockedValue({ $0 }) else { throw ChannelError.ioOnClosedChannel }
                    try channel.pipeline.syncOperations.addHandler(WireTally(server: server))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Pages(server: server))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = TestWebServer(channel: channel)
        box.withLockedValue { $0 = server }
        return server
    }

    func stop() async {
        try? await channel.close()
    }

    /// Bytes received and sent on every connection so far.
    var wireBytes: Int { received.withLockedValue { $0 } + sent.withLockedValue { $0 } }

    var requests: [Request] { log.withLockedValue { $0 } }

    /// Serves `html` at `/html/NAME`.
    func serve(_ name: String, html: String) {
        documents.withLockedValue { $0[name] = html }
    }

    fileprivate func document(_ name: String) -> String? { documents.withLockedValue { $0[name] } }

    fileprivate func tally(received count: Int) { received.withLockedValue { $0 += count } }
    fileprivate func tally(sent count: Int) { sent.withLockedValue { $0 += count } }
    fileprivate func record(_ request: Request) { log.withLockedValue { $0.append(request) } }
}

/// Counts raw bytes at the head of each connection's pipeline.
private final class WireTally: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    let server: TestWebServer

    init(server: TestWebServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        server.tally(received: unwrapInboundIn(data).readableBytes)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        server.tally(sent: unwrapOutboundIn(data).readableBytes)
        context.write(data, promise: promise)
    }
}

private final class Pages: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let server: TestWebServer
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(server: TestWebServer) { self.server = server }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body += buffer.readableBytesView
        case .end:
            guard let head else { return }
            server.record(.init(method: head.method.rawValue, uri: head.uri, host: head.headers["host"].first ?? "", body: body))
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
        let parts = path.split(separator: "/").map(String.init)
        var status = HTTPResponseStatus.ok
        var headers = HTTPHeaders([("Content-Type", "text/plain")])
        var payload: [UInt8] = []
        switch parts.first {
        case "text": payload = Array("hello \(parts.dropFirst().joined(separator: "/"))\n".utf8)
        case "bytes":
            let count = Int(parts.last ?? "") ?? 0
            payload = (0..<count).map { UInt8($0 % 251) }
            headers.replaceOrAdd(name: "Content-Type", value: "application/octet-stream")
        case "echo": payload = body
        case "redirect":
            let left = Int(parts.last ?? "") ?? 0
            if left > 0 {
                status = .found
                headers.add(name: "Location", value: "/redirect/\(left - 1)")
            } else {
                payload = Array("arrived\n".utf8)
            }
        case "to":
            status = .found
            let query = head.uri.split(separator: "?", maxSplits: 1).last.map(String.init) ?? ""
            let target = query.hasPrefix("url=") ? String(query.dropFirst(4)).removingPercentEncoding ?? "" : ""
            headers.add(name: "Location", value: target)
        case "hang": return
        case "html" where server.document(parts.dropFirst().joined(separator: "/")) != nil:
            payload = Array((server.document(parts.dropFirst().joined(separator: "/")) ?? "").utf8)
            headers.replaceOrAdd(name: "Content-Type", value: "text/html; charset=utf-8")
        default:
            status = .notFound
            payload = Array("no such page\n".utf8)
        }
        headers.add(name: "Content-Length", value: String(payload.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD, !payload.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: payload)))), promise: nil)
        }
        let keepAlive = head.isKeepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}
