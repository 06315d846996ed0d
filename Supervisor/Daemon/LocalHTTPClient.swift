import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A one-request-per-connection HTTP/1.1 client over SwiftNIO, for the admin
/// socket (which general HTTP clients do not dial) and for plain loopback
/// calls in tests. Not a general-purpose client: no TLS, no redirects.
public enum LocalHTTPClient {
    public enum Endpoint: Sendable, CustomStringConvertible {
        case unixSocket(path: String)
        case tcp(host: String, port: Int)

        public var description: String {
            switch self {
            case .unixSocket(let path): return path
            case .tcp(let host, let port): return "\(host):\(port)"
            }
        }
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: Data

        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    public struct TimeoutError: Error, CustomStringConvertible {
        public var description: String
    }

    /// `onBody` sees each piece of the body as it arrives (streamed answers).
    public static func send(_ method: String, _ path: String, to endpoint: Endpoint,
                            headers: [(String, String)] = [], body: Data? = nil,
                            timeout: Duration = .seconds(30),
                            onBody: (@Sendable (Data) -> Void)? = nil) async throws -> Response {
        try await withThrowingTaskGroup(of: Response?.self) { group in
            group.addTask { try await exchange(method, path, endpoint: endpoint, headers: headers, body: body, onBody: onBody) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else {
                throw TimeoutError(description: "\(endpoint) did not answer \(method) \(path) within \(timeout)")
            }
            return response
        }
    }

    private static func exchange(_ method: String, _ path: String, endpoint: Endpoint,
                                 headers: [(String, String)], body: Data?,
                                 onBody: (@Sendable (Data) -> Void)?) async throws -> Response {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                return try NIOAsyncChannel(wrappingChannelSynchronously: channel)
            }
        }
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        let hostHeader: String
        switch endpoint {
        case .unixSocket(let socketPath):
            channel = try await bootstrap.connect(unixDomainSocketPath: socketPath, channelInitializer: initializer)
            hostHeader = "localhost"
        case .tcp(let host, let port):
            channel = try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
            hostHeader = "\(host):\(port)"
        }

        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
            head.headers.add(name: "Host", value: hostHeader)
            head.headers.add(name: "Connection", value: "close")
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            let framed = headers.contains { ["content-length", "transfer-encoding"].contains($0.0.lowercased()) }
            if let body, !framed {
                head.headers.add(name: "Content-Length", value: String(body.count))
            }
            // A server may answer early (413) and close while the body is still
            // going out; its answer is still worth reading.
            var writeError: (any Error)?
            do {
                try await outbound.write(.head(head))
                if let body, !body.isEmpty {
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
                }
                try await outbound.write(.end(nil))
            } catch {
                writeError = error
            }

            var response = Response(status: 0, headers: [], body: Data())
            for try await part in inbound {
                switch part {
                case .head(let responseHead):
                    response.status = Int(responseHead.status.code)
                    response.headers = responseHead.headers.map { ($0.name, $0.value) }
                case .body(let buffer):
                    response.body.append(contentsOf: buffer.readableBytesView)
                    onBody?(Data(buffer.readableBytesView))
                case .end:
                    return response
                }
            }
            guard response.status != 0 else {
                throw writeError ?? IOError(errnoCode: ECONNRESET, reason: "the server closed the connection without answering")
            }
            return response
        }
    }
}
