import Foundation
import NIOCore
import NIOPosix
import Store
import Supervisor
import Testing

@Suite("Graceful shutdown")
struct ShutdownTests {
    /// Once shutdown starts no new connection is accepted, but a request whose
    /// body is still arriving is allowed to finish and gets its answer.
    @Test func anInFlightRequestFinishesAfterShutdownStarts() async throws {
        let directory = try TemporaryDirectory()
        var configuration = SupervisorConfiguration()
        configuration.stateDirectory = directory.path
        configuration.port = 0
        configuration.shutdownGraceSeconds = 10
        let logs = RecordedLogs()
        let daemon = try Daemon(configuration: configuration, logger: logs.logger, handleSignals: false)
        let running = Task { try await daemon.run() }
        let port = await daemon.waitUntilListening()
        let socket = StateLayout(root: directory.path).adminSocket
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) {
            try await Task.sleep(for: .milliseconds(20))
        }

        let body = #"{"name": "late"}"#
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(unixDomainSocketPath: socket) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let answer = try await channel.executeThenClose { inbound, outbound in
            let head = "POST /v1/tenants HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n"
            try await outbound.write(ByteBuffer(string: head + body.prefix(5)))
            // Give the server time to parse the head even on a loaded machine:
            // only then is the request in flight rather than an idle connection.
            try await Task.sleep(for: .milliseconds(1500))

            let shutdown = Task { await daemon.shutdown() }
            // No new connections once shutdown has begun (on a loaded machine the
            // listener may take a moment to close: asked again for up to 3 s).
            var refused = false
            for _ in 0..<15 {
                try await Task.sleep(for: .milliseconds(200))
                do {
                    _ = try await LocalHTTPClient.send("GET", "/v1/health", to: .tcp(host: "127.0.0.1", port: port),
                                                       timeout: .seconds(2))
                } catch {
                    refused = true
                    break
                }
            }
            #expect(refused, "new connections were still accepted 3 s into the shutdown")
            try await outbound.write(ByteBuffer(string: String(body.dropFirst(5))))

            var received = ""
            for try await buffer in inbound {
                received += String(buffer: buffer)
                if received.contains("\r\n\r\n"), received.hasSuffix("}") { break }
            }
            await shutdown.value
            return received
        }
        #expect(answer.hasPrefix("HTTP/1.1 201"), "got \(answer)")
        try await running.value

        // The lock is released and the tenant survived: a new daemon starts on the same state.
        let again = try Daemon(configuration: configuration, logger: logs.logger, handleSignals: false)
        let rerun = Task { try await again.run() }
        _ = await again.waitUntilListening()
        for _ in 0..<100 where (try? await AdminClient(stateDirectory: directory.path).status()) == nil {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await AdminClient(stateDirectory: directory.path).tenant("late").name == "late")
        await again.shutdown()
        try await rerun.value
    }
}
