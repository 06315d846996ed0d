import Foundation
import Sandbox
import Testing
import WorkerProtocol

/// The worker's side of egress, with the test as the supervisor: an exec
/// call with the network hands its jail's listener over the egress channel,
/// tagged with the call, and releases it when the call ends.
@Suite("Egress bridge in the worker")
struct EgressBridgeTests {
    @Test("a call with the network hands its listener over, tagged, and releases it at its end")
    func listenerHandOver() throws {
        for identity in [Identity.automatic, .callerOnly] {
            let worker = try WorkerHarness.start(identity: identity, egress: true)
            defer { worker.stop() }
            let channel = try #require(worker.egress)
            try worker.call(7, .exec, ExecArgs(language: "python", code: """
                import os, socket
                s = socket.create_connection(('127.0.0.1', 3128), timeout=30)
                s.sendall(b'ping')
                print(s.recv(10).decode(), os.environ['HTTP_PROXY'], os.environ['https_proxy'])
                """, network: true))

            // The supervisor's part: take the listener and answer on it.
            let handed = try #require(try DescriptorPassing.receive(from: channel))
            #expect(EgressMessage(bytes: handed.message) == .listener(tag: EgressTag.call(7)))
            let listener = try #require(handed.fd)
            let client = accept(listener, nil, nil)
            var request = [UInt8](repeating: 0, count: 4)
            #expect(recv(client, &request, 4, Int32(MSG_WAITALL)) == 4 && request == Array("ping".utf8))
            _ = send(client, "pong", 4, 0)
            close(client)

            let result = try worker.result(ExecResult.self, worker.waitEnd(callID: 7))
            #expect(result.stdout == "pong http://127.0.0.1:3128 http://127.0.0.1:3128\n", "\(identity): \(result)")
            let released = try #require(try DescriptorPassing.receive(from: channel))
            #expect(EgressMessage(bytes: released.message) == .release(tag: EgressTag.call(7)))
            #expect(released.fd == nil)
            close(listener)

            // Without the network: no listener, no message, no proxy variables.
            let offline = try worker.exec(8, ExecArgs(language: "bash", code: "echo \"[$HTTP_PROXY]\"; (exec 3<>/dev/tcp/127.0.0.1/3128) 2>/dev/null || echo refused"))
            #expect(offline.stdout == "[]\nrefused\n", "\(offline)")
            #expect(try DescriptorPassing.receive(from: channel, wait: false) == nil)
        }
    }
}
