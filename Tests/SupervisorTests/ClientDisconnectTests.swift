import Foundation
import Store
import Supervisor
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A client that hangs up on `POST /v1/exec` cancels its call: over real
/// HTTP, with a raw socket that sends the request and closes.
@Suite("Client disconnects")
struct ClientDisconnectTests {
    /// Sends `request` on a fresh TCP connection and returns the open socket.
    static func connectAndSend(port: Int, _ request: String) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0, "connect: errno \(errno)")
        let bytes = Array(request.utf8)
        try #require(write(fd, bytes, bytes.count) == bytes.count)
        return fd
    }

    static func execRequest(token: String, code: String, stream: Bool) -> String {
        let body = String(decoding: Live.json(["language": "bash", "code": code, "timeout_ms": 50_000]), as: UTF8.self)
        return "POST /v1/exec HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Type: application/json\r\n" + (stream ? "Accept: text/event-stream\r\n" : "")
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    @Test(arguments: [false, true])
    func hangingUpCancelsTheCallAndFreesItsSlot(stream: Bool) async throws {
        // One call at a time per worker: a slot that is not freed refuses the next call.
        try await withLiveDaemon({ $0.workerMaxCalls = 1 }) { daemon in
            let (tenant, token) = try await daemon.tenantWithKey(stream ? "hangup-stream" : "hangup")
            _ = try await daemon.run(token, "bash", "echo warm")

            let marker = "hangup\(UInt32.random(in: 100_000...999_999))"
            let fd = try Self.connectAndSend(port: daemon.port,
                                             Self.execRequest(token: token, code: "exec -a \(marker) sleep 30", stream: stream))
            #expect(await Live.eventually(within: 60) { !Live.processes(containing: marker).isEmpty }, "the call never started")
            close(fd)

            #expect(await Live.eventually(within: 5) { Live.processes(containing: marker).isEmpty },
                    "the tool process outlived its client: \(Live.processes(containing: marker))")
            #expect(await Live.eventually(within: 5) {
                (try? await daemon.admin.workers().first { $0.tenantID == tenant.id }?.callsInFlight) == 0
            }, "the supervisor still counts the call")
            let next = try await daemon.exec(token, ["language": "bash", "code": "echo next"])
            #expect(next.status == 200, "\(String(decoding: next.body, as: UTF8.self))")
            #expect(next.json?["stdout"] as? String == "next\n")
        }
    }

    /// A client that stays connected still gets its whole answer.
    @Test func aClientThatWaitsGetsItsAnswer() async throws {
        try await withLiveDaemon { daemon in
            let (_, token) = try await daemon.tenantWithKey("patient")
            let fd = try Self.connectAndSend(port: daemon.port, Self.execRequest(token: token, code: "sleep 1; echo done", stream: false))
            defer { close(fd) }
            var timeout = timeval(tv_sec: 60, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !String(decoding: received, as: UTF8.self).contains("\"request_id\"") {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { break }
                received += buffer[0..<n]
            }
            let text = String(decoding: received, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200"), "\(text)")
            #expect(text.contains("\"stdout\":\"done\\n\""), "\(text)")
        }
    }
}
