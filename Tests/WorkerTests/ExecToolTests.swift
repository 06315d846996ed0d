import Foundation
import Testing
import WorkerProtocol

@Suite("exec in nested tool jails")
struct ExecToolTests {
    @Test("python, node and bash: stdout, stderr and exit codes")
    func languages() throws {
        let worker = try WorkerHarness.start()
        defer { worker.stop() }
        let py = try worker.exec(1, ExecArgs(language: "python", code: "import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(3)"))
        #expect(py.status == "exited_nonzero")
        #expect(py.exitCode == 3)
        #expect(py.stdout == "out\n")
        #expect(py.stderr == "err\n")
        #expect(py.stdoutEncoding == "utf8")

        let node = try worker.exec(2, ExecArgs(language: "node", code: "console.log(6 * 7); console.error('e')"))
        #expect(node.status == "ok", "\(node)")
        #expect(node.stdout == "42\n")
        #expect(node.stderr == "e\n")

        let bash = try worker.exec(3, ExecArgs(language: "bash", code: "echo \"$1-$2\"; id -u; pwd; exit 0", args: ["a", "b"]))
        #expect(bash.status == "ok")
        #expect(bash.exitCode == 0)
        #expect(bash.stdout == "a-b\n1000\n/workspace\n")
        #expect(bash.wallMs >= 0)
    }

    @Test("a tenant jail that maps a single id (as rootless) still runs exec and files")
    func singleMappedID() throws {
        let worker = try WorkerHarness.start(identity: .callerOnly)
        defer { worker.stop() }
        let r = try worker.exec(1, ExecArgs(language: "bash", code: "echo hi > made.txt; id -u; cat made.txt",
                                            files: [ExecFile(path: "given.txt", content: "x")]))
        #expect(r.status == "ok", "\(r)")
        #expect(r.stdout == "1000\nhi\n")
        let read = try worker.result(FilesReadResult.self, worker.run(2, .filesRead, FilesReadArgs(path: "made.txt")))
        #expect(read.content.flatMap { Data(base64Encoded: $0) } == Data("hi\n".utf8))
    }

    @Test("stdin, files into the workspace, and files the code writes")
    func filesAndStdin() throws {
        let worker = try WorkerHarness.start()
        defer { worker.stop() }
        let args = ExecArgs(language: "python",
                            code: "import sys\nd=open('data/in.txt').read()\nb=open('bin.dat','rb').read()\nopen('out.txt','w').write(d.upper()+sys.stdin.read())\nprint(len(b))",
                            stdin: "from stdin",
                            files: [ExecFile(path: "data/in.txt", content: "hello "),
                                    ExecFile(path: "bin.dat", content: Data([0, 1, 2, 255]).base64EncodedString(), encoding: "base64")])
        let r = try worker.exec(1, args)
        #expect(r.status == "ok", "\(r)")
        #expect(r.stdout == "4\n")
        let written = try String(contentsOfFile: worker.workspace + "/out.txt", encoding: .utf8)
        #expect(written == "HELLO from stdin")
        let owner = try FileManager.default.attributesOfItem(atPath: worker.workspace + "/out.txt")[.ownerAccountID] as? Int
        #expect(owner == Int(WorkerHarness.payloadHostID))
    }

    @Test("streamed output arrives as STDOUT/STDERR frames before the RESULT")
    func streaming() throws {
        let worker = try WorkerHarness.start()
        defer { worker.stop() }
        let code = "import sys, time\nfor i in range(3):\n    print('line', i)\n    time.sleep(0.15)\nprint('oops', file=sys.stderr)"
        let frames = try worker.run(1, .exec, ExecArgs(language: "python", code: code, stream: true))
        let out = frames.filter { $0.type == .stdout }
        let err = frames.filter { $0.type == .stderr }
        #expect(out.count >= 2, "chunks arrive as printed, not all at the end")
        #expect(String(decoding: out.flatMap(\.payload), as: UTF8.self) == "line 0\nline 1\nline 2\n")
        #expect(String(decoding: err.flatMap(\.payload), as: UTF8.self) == "oops\n")
        #expect(frames.last?.type == .result)
        let result = try worker.result(ExecResult.self, frames)
        #expect(result.status == "ok")
        #expect(result.stdout == nil && result.stderr == nil)
        let text = String(decoding: frames.last?.payload ?? [], as: UTF8.self)
        #expect(!text.contains("\"stdout\""))
    }

    @Test("twenty calls at once, each with its own output")
    func concurrent() throws {
        let worker = try WorkerHarness.start(maxCalls: 32)
        defer { worker.stop() }
        let ids = Array(UInt32(1)...20)
        for id in ids {
            try worker.call(id, .exec, ExecArgs(language: id % 2 == 0 ? "python" : "bash",
                                                 code: id % 2 == 0 ? "import time; time.sleep(0.2); print(\(id))" : "sleep 0.2; echo \(id)"))
        }
        for id in ids {
            let r = try worker.result(ExecResult.self, worker.waitEnd(callID: id, timeout: 120))
            #expect(r.status == "ok", "call \(id): \(r)")
            #expect(r.stdout == "\(id)\n")
        }
    }

    @Test("CANCEL kills the call's jail and the call ends with its RESULT")
    func cancel() throws {
        let worker = try WorkerHarness.start()
        defer { worker.stop() }
        try worker.call(1, .exec, ExecArgs(language: "bash", code: "echo started; sleep 30", timeoutMs: 60_000, stream: true))
        let deadline = Date().addingTimeInterval(20)
        while worker.framesSoFar(callID: 1).isEmpty && Date() < deadline { usleep(2000) }
        let start = Date()
        try worker.send(Frame(.cancel, callID: 1))
        let r = try worker.result(ExecResult.self, worker.waitEnd(callID: 1))
        #expect(r.status == "signaled")
        #expect(r.message == "cancelled by the caller")
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test("wall timeouts, output caps and binary output")
    func limits() throws {
        let worker = try WorkerHarness.start()
        defer { worker.stop() }
        let slow = try worker.exec(1, ExecArgs(language: "python", code: "while True: pass", timeoutMs: 400))
        #expect(slow.status == "timeout_wall", "\(slow)")

        let loud = try worker.exec(2, ExecArgs(language: "bash", code: "head -c 100000 /dev/zero | tr '\\0' x", outputBytes: 1000))
        #expect(loud.stdoutTruncated)
        #expect(loud.stdout?.count == 1000)

        // More output than one frame holds is cut to fit and marked truncated; streaming gets it all.
        let huge = try worker.exec(4, ExecArgs(language: "python", code: "print('y' * (3 << 20))", outputBytes: 8 << 20))
        #expect(huge.stdoutTruncated)
        #expect((huge.stdout?.utf8.count ?? 0) > 512 << 10)
        #expect((huge.stdout?.utf8.count ?? 0) < 1 << 20)
        let streamed = try worker.run(5, .exec, ExecArgs(language: "python", code: "print('y' * (3 << 20))", outputBytes: 8 << 20, stream: true))
        let streamedBytes: Int = streamed.filter { $0.type == .stdout }.reduce(0) { $0 + $1.payload.count }
        #expect(streamedBytes == (3 << 20) + 1)

        let binary = try worker.exec(3, ExecArgs(language: "python", code: "import sys; sys.stdout.buffer.write(bytes([0xff, 0xfe, 0x00]))"))
        #expect(binary.stdoutEncoding == "base64")
        #expect(binary.stdout == Data([0xFF, 0xFE, 0x00]).base64EncodedString())
    }

    @Test("the tool jail applies the exec seccomp profile")
    func seccomp() throws {
        let worker = try WorkerHarness.start()
        defer { worker.stop() }
        let r = try worker.exec(1, ExecArgs(language: "python", code: "import ctypes; ctypes.CDLL(None).unshare(0x10000000); print('escaped')"))
        #expect(r.status == "seccomp_violation", "\(r)")
        #expect(r.syscall == "unshare")
        #expect(r.stdout == "")
    }

    @Test("bad requests and limits are refused with the code that names them")
    func refusals() throws {
        let worker = try WorkerHarness.start()
        defer { worker.stop() }
        let unknown = try worker.error(worker.run(1, .exec, ExecArgs(language: "cobol", code: "")))
        #expect(unknown.code == .invalidRequest)
        #expect(unknown.message.contains("cobol"))

        let negative = try worker.error(worker.run(2, .exec, ExecArgs(language: "bash", code: "true", timeoutMs: -5)))
        #expect(negative.code == .invalidLimit)
        #expect(negative.field == "timeout_ms")

        let absurd = try worker.error(worker.run(3, .exec, ExecArgs(language: "bash", code: "true", memoryMb: 1 << 40)))
        #expect(absurd.code == .invalidLimit)
        #expect(absurd.field == "memory_mb")

        // This worker has no egress channel (fd 4), so no call of it may have the network.
        let network = try worker.error(worker.run(4, .exec, ExecArgs(language: "bash", code: "true", network: true)))
        #expect(network.code == .invalidLimit)
        #expect(network.field == "network")
        #expect(network.message.contains("egress channel"), "\(network.message)")

        let raw = #"{"tool":"exec","request_id":"req_5","args":{"language":"bash","code":"true","cpu_ms":"lots"}}"#
        try worker.send(Frame(.call, callID: 5, payload: Array(raw.utf8)))
        let wrongType = try worker.error(worker.waitEnd(callID: 5))
        #expect(wrongType.code == .invalidLimit)
        #expect(wrongType.field == "cpu_ms")

        let missing = #"{"tool":"exec","args":{"language":"bash"}}"#
        try worker.send(Frame(.call, callID: 6, payload: Array(missing.utf8)))
        let noCode = try worker.error(worker.waitEnd(callID: 6))
        #expect(noCode.code == .invalidRequest)
        #expect(noCode.message.contains("code"))

        let tool = #"{"tool":"teleport","args":{}}"#
        try worker.send(Frame(.call, callID: 7, payload: Array(tool.utf8)))
        #expect(try worker.error(worker.waitEnd(callID: 7)).code == .invalidRequest)

        try worker.send(WireJSON.frame(.call, callID: 0, CallRequest(tool: .filesList, args: FilesListArgs(), requestID: nil)))
        let reserved = try worker.waitFrame(callID: 0)
        #expect(reserved.type == .error)

        let escape = try worker.error(worker.run(8, .exec, ExecArgs(language: "bash", code: "true",
                                                                      files: [ExecFile(path: "../escape", content: "x")])))
        #expect(escape.code == .invalidRequest)
        #expect(!FileManager.default.fileExists(atPath: worker.workspace + "/../escape"))
    }
}
