import Foundation
import Sandbox
import Testing
import WorkerProtocol

@Suite("Worker handshake and lifecycle")
struct WorkerLifecycleTests {
    @Test("HELLO is answered with the protocol, the pid and the version; PING with PONG")
    func handshakeAndPing() throws {
        let worker = try WorkerHarness.start()
        defer { worker.stop() }
        try worker.send(Frame(.ping))
        #expect(try worker.waitFrame(callID: 0).type == .pong)
    }

    @Test("a HELLO of another protocol version gets protocol_version and the worker exits 2")
    func wrongVersion() throws {
        let worker = try WorkerHarness.start(hello: false)
        defer { worker.stop() }
        var hello = Hello(tenant: "t_test", execProfile: WorkerHarness.execProfile)
        hello.protocol = 2
        try worker.send(WireJSON.frame(.hello, callID: 0, hello))
        let reply = try worker.waitFrame(callID: 0)
        #expect(reply.type == .error)
        let error = try WireJSON.decode(ErrorReply.self, from: reply.payload)
        #expect(error.code == .protocolVersion)
        #expect(error.message.contains("protocol 1"))
        let outcome = try worker.waitExit()
        #expect(outcome.result.exitCode == 2)
    }

    @Test("the worker exits 0 when the supervisor's end closes, cancelling what runs")
    func exitOnEOF() throws {
        let worker = try WorkerHarness.start()
        defer { worker.stop() }
        try worker.call(1, .exec, ExecArgs(language: "bash", code: "sleep 30", timeoutMs: 60_000))
        usleep(300_000)
        let start = Date()
        worker.socket.shutdownBoth()
        let outcome = try worker.waitExit(timeout: 10)
        #expect(outcome.result.status == .ok, "\(outcome.result) \(String(decoding: outcome.stderr, as: UTF8.self))")
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test("SHUTDOWN refuses new calls, cancels running ones after the grace, then exits 0")
    func shutdown() throws {
        let worker = try WorkerHarness.start()
        defer { worker.stop() }
        try worker.call(1, .exec, ExecArgs(language: "bash", code: "sleep 30", timeoutMs: 60_000))
        try worker.call(2, .exec, ExecArgs(language: "bash", code: "sleep 0.1; echo quick", timeoutMs: 60_000))
        usleep(300_000)
        try worker.send(WireJSON.frame(.shutdown, callID: 0, Shutdown(graceMs: 700)))
        usleep(100_000)
        let refused = try worker.error(worker.run(3, .exec, ExecArgs(language: "bash", code: "true")))
        #expect(refused.code == .busy)

        let quick = try worker.result(ExecResult.self, worker.waitEnd(callID: 2))
        #expect(quick.stdout == "quick\n")
        let slow = try worker.result(ExecResult.self, worker.waitEnd(callID: 1))
        #expect(slow.status == "signaled")
        #expect(slow.message?.contains("shutting down") == true)
        let outcome = try worker.waitExit()
        #expect(outcome.result.status == .ok, "\(outcome.result)")
    }

    @Test("SHUTDOWN of an idle worker exits 0 at once")
    func idleShutdown() throws {
        let worker = try WorkerHarness.start()
        defer { worker.stop() }
        let start = Date()
        try worker.send(WireJSON.frame(.shutdown, callID: 0, Shutdown(graceMs: 5000)))
        let outcome = try worker.waitExit()
        #expect(outcome.result.status == .ok)
        #expect(Date().timeIntervalSince(start) < 2)
    }

    @Test("more calls than max_calls are answered busy")
    func busy() throws {
        let worker = try WorkerHarness.start(maxCalls: 2)
        defer { worker.stop() }
        try worker.call(1, .exec, ExecArgs(language: "bash", code: "sleep 30", timeoutMs: 60_000))
        try worker.call(2, .exec, ExecArgs(language: "bash", code: "sleep 30", timeoutMs: 60_000))
        let third = try worker.error(worker.run(3, .exec, ExecArgs(language: "bash", code: "true")))
        #expect(third.code == .busy)
        try worker.send(Frame(.cancel, callID: 1))
        try worker.send(Frame(.cancel, callID: 2))
        _ = try worker.waitEnd(callID: 1)
        _ = try worker.waitEnd(callID: 2)
        let fourth = try worker.exec(4, ExecArgs(language: "bash", code: "echo again"))
        #expect(fourth.stdout == "again\n")
    }

    @Test("with max_calls 1, a call sent the moment the last result arrives is never refused")
    func backToBackCallsAtTheLimit() throws {
        let worker = try WorkerHarness.start(maxCalls: 1)
        defer { worker.stop() }
        for id in UInt32(1)...40 {
            let result = try worker.exec(id, ExecArgs(language: "bash", code: "echo \(id)"))
            #expect(result.stdout == "\(id)\n", "call \(id)")
        }
    }

    @Test("an unknown frame type or an oversize frame closes the connection with a clear error")
    func protocolErrors() throws {
        let unknown = try WorkerHarness.start()
        defer { unknown.stop() }
        unknown.sendRaw([0, 0, 0, 5, 0x42, 0, 0, 0, 1])
        let first = try unknown.waitExit()
        #expect(first.result.exitCode == 1)
        #expect(String(decoding: first.stderr, as: UTF8.self).contains("unknown frame type 0x42"))

        let oversize = try WorkerHarness.start()
        defer { oversize.stop() }
        oversize.sendRaw([0, 0x20, 0, 0, 0x02, 0, 0, 0, 1])
        let second = try oversize.waitExit()
        #expect(second.result.exitCode == 1)
        #expect(String(decoding: second.stderr, as: UTF8.self).contains("exceeds the maximum"))
    }

    @Test("PING is answered while calls run, and streams of concurrent calls never mix")
    func interleaving() throws {
        let worker = try WorkerHarness.start()
        defer { worker.stop() }
        let ids: [UInt32] = [11, 12, 13]
        for id in ids {
            try worker.call(id, .exec, ExecArgs(language: "python",
                                                 code: "import time\nfor i in range(200):\n    print('call-\(id)-' + str(i))\n    time.sleep(0.001)",
                                                 stream: true))
        }
        try worker.send(Frame(.ping))
        #expect(try worker.waitFrame(callID: 0).type == .pong)
        for id in ids {
            let frames = try worker.waitEnd(callID: id)
            let text = String(decoding: frames.filter { $0.type == .stdout }.flatMap(\.payload), as: UTF8.self)
            #expect(text == (0..<200).map { "call-\(id)-\($0)\n" }.joined())
        }
    }

    @Test("idle memory: the workers' Pss from smaps_rollup (printed, not asserted)")
    func idleMemory() throws {
        // Pss splits shared pages among their users: one copy alone carries all of the
        // binary's text; with ten copies each pays its share, as on a server full of tenants.
        var workers: [WorkerHarness] = []
        defer { for w in workers { w.stop() } }
        for _ in 0..<10 {
            let worker = try WorkerHarness.start()
            workers.append(worker)
            _ = try worker.exec(1, ExecArgs(language: "bash", code: "true"))
            _ = try worker.run(2, .filesList, FilesListArgs())
        }
        usleep(200_000)
        var rows: [[String: Int]] = []
        for worker in workers {
            guard let pid = worker.hostPID() else {
                Issue.record("a worker's pid was not found by its environment tag")
                return
            }
            rows.append(Self.smapsRollup(pid))
        }
        func mean(_ key: String) -> Int { rows.map { $0[key] ?? 0 }.reduce(0, +) / max(1, rows.count) }
        print("warden-worker idle, mean of \(rows.count) copies after one exec and one files.list (\(TestPaths.worker)): "
              + "Pss \(mean("Pss")) kB (Pss_Anon \(mean("Pss_Anon")) kB, Pss_File \(mean("Pss_File")) kB), Rss \(mean("Rss")) kB")
        #expect(mean("Pss") > 0)
    }

    /// The kB fields of /proc/PID/smaps_rollup.
    static func smapsRollup(_ pid: Int32) -> [String: Int] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8)) ?? ""
        var fields: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: \.isWhitespace)
            if parts.count >= 2, parts[0].hasSuffix(":"), let kb = Int(parts[1]) { fields[String(parts[0].dropLast())] = kb }
        }
        return fields
    }
}
