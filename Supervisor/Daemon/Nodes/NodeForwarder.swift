import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOPosix

/// Sends a tenant's call to the node that holds its lease and streams the
/// answer back as it comes (server-sent events included). The request keeps
/// its id and gains `Warden-Forwarded-By`, so the holder never forwards it again.
struct NodeForwarder: Sendable {
    let nodeID: String

    static let forwardedBy = HTTPFields.Element.Name("Warden-Forwarded-By")!
    static let servedBy = HTTPFields.Element.Name("Warden-Node")!

    /// Headers that describe one connection, not the message: never passed on.
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
                                        "trailer", "upgrade", "host"]

    struct Unreachable: Error {
        var detail: String
    }

    /// Forwards `request` to `holder`; throws `Unreachable` when no answer began.
    func forward(_ request: Request, to holder: NodeAddress, requestID: String, client: any Channel) async throws -> Response {
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(3))
                .connect(host: holder.host, port: holder.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw Unreachable(detail: "\(error)")
        }

        let head = requestHead(request, holder: holder, requestID: requestID)
        let (heads, headSink) = AsyncThrowingStream<HTTPResponseHead, any Error>.makeStream()
        let (body, bodySink) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let exchange = Task {
            await withTaskGroup(of: Void.self) { group in
                // The client went away (or stopped reading): close the upstream call, which the holder sees and stops.
                group.addTask {
                    while !Task.isCancelled, client.isActive { try? await Task.sleep(for: WorkerCall.clientCheck) }
                }
                group.addTask { await Self.exchange(channel, head: head, body: request.body, heads: headSink, chunks: bodySink) }
                // Whichever ends first ends the other.
                await group.next()
                group.cancelAll()
            }
        }
        bodySink.onTermination = { _ in exchange.cancel() }

        let responseHead: HTTPResponseHead
        do {
            var iterator = heads.makeAsyncIterator()
            guard let first = try await iterator.next() else { throw Unreachable(detail: "no answer") }
            responseHead = first
        } catch let error as Unreachable {
            exchange.cancel()
            throw error
        } catch {
            exchange.cancel()
            throw Unreachable(detail: "\(error)")
        }
        var headers = HTTPFields()
        for field in responseHead.headers where !Self.hopByHop.contains(field.name.lowercased()) {
            if let name = HTTPFields.Element.Name(field.name) { headers.append(.init(name: name, value: field.value)) }
        }
        headers[Self.forwardedBy] = nodeID
        return Response(status: .init(code: Int(responseHead.status.code), reasonPhrase: responseHead.status.reasonPhrase),
                        headers: headers, body: ResponseBody(asyncSequence: body))
    }

    /// Sends the request and hands the answer's head and body pieces on as they come.
    private static func exchange(_ channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>,
                                 head: HTTPRequestHead, body: RequestBody,
                                 heads: AsyncThrowingStream<HTTPResponseHead, any Error>.Continuation,
                                 chunks: AsyncThrowingStream<ByteBuffer, any Error>.Continuation) async {
        do {
            try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(.head(head))
                for try await chunk in body { try await outbound.write(.body(.byteBuffer(chunk))) }
                try await outbound.write(.end(nil))
                for try await part in inbound {
                    switch part {
                    case .head(let responseHead):
                        heads.yield(responseHead)
                        heads.finish()
                    case .body(let chunk):
                        chunks.yield(chunk)
                    case .end:
                        chunks.finish()
                        return
                    }
                }
                throw Unreachable(detail: "the node closed the connection before the answer ended")
            }
        } catch {
            heads.finish(throwing: error)
            chunks.finish(throwing: error)
        }
    }

    /// The request as the holder gets it: the same method, path, headers and
    /// body, with the request id and this node's name.
    private func requestHead(_ request: Request, holder: NodeAddress, requestID: String) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method.rawValue),
                                   uri: request.head.path ?? "/")
        for field in request.headers where !Self.hopByHop.contains(field.name.canonicalName) {
            head.headers.add(name: field.name.rawName, value: field.value)
        }
        head.headers.replaceOrAdd(name: "Host", value: holder.description.dropFirst("http://".count).description)
        head.headers.replaceOrAdd(name: RequestIDHeader.name.rawName, value: requestID)
        head.headers.replaceOrAdd(name: Self.forwardedBy.rawName, value: nodeID)
        head.headers.replaceOrAdd(name: "Connection", value: "close")
        return head
    }
}
