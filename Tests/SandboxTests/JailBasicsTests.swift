import Foundation
import Synchronization
import Sandbox
import Testing

@Suite struct JailBasicsTests {
    @Test func trueEndsOk() {
        let o = Fixtures.jail.run(Fixtures.config(["/bin/true"]))
        #expect(o.result.status == .ok, "\(o.result)")
        #expect(o.result.exitCode == 0)
        #expect(o.result.wallMs > 0)
    }

    @Test func exitCodeAndOutputComeBack() {
        let o = Fixtures.sh("echo out; echo err >&2; exit 7")
        #expect(o.result.status == .exitedNonzero)
        #expect(o.result.exitCode == 7)
        #expect(o.result.mirroredExitCode == 7)
        #expect(o.out == "out\n")
        #expect(o.err == "err\n")
    }

    @Test func stdinIsFed() {
        var c = Fixtures.config(["/usr/bin/wc", "-c"])
        c.limits.wallTimeMs = 10_000
        let input = [UInt8](repeating: 65, count: 300_000)
        let o = Fixtures.jail.run(c, stdin: .bytes(input))
        #expect(o.out.trimmingCharacters(in: .whitespacesAndNewlines) == "300000")
    }

    @Test func identityInsideIsUnprivileged() {
        let o = Fixtures.sh("id -u; id -g; id -G; hostname; grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status")
        let lines = o.out.split(separator: "\n").map(String.init)
        #expect(lines.prefix(4) == ["1000", "1000", "1000", "warden"], "\(o.out) \(o.err) \(o.result)")
        for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
            #expect(lines.contains("\(cap):\t0000000000000000"), "\(cap) not empty: \(o.out)")
        }
        #expect(lines.contains("NoNewPrivs:\t1"))
        #expect(lines.contains("Seccomp:\t2"))
    }

    @Test func pythonAndNodeRun() {
        let py = Fixtures.python("import json, sys; print(json.dumps({'v': sys.version_info[0]}))")
        #expect(py.result.status == .ok, "\(py.result) \(py.err)")
        #expect(py.out == "{\"v\": 3}\n")
        let node = Fixtures.jail.run(Fixtures.config(["/usr/bin/node", "-e", "console.log(6*7)"]))
        #expect(node.result.status == .ok, "\(node.result) \(node.err)")
        #expect(node.out == "42\n")
    }

    @Test func concurrentRunsNeverMixTheirOutput() {
        let outcomes = Mutex<[Int: String]>([:])
        DispatchQueue.concurrentPerform(iterations: 32) { i in
            let o = Fixtures.sh("echo run-\(i); echo err-\(i) >&2")
            outcomes.withLock { $0[i] = o.out + "|" + o.err }
        }
        let all = outcomes.withLock { $0 }
        for i in 0..<32 {
            #expect(all[i] == "run-\(i)\n|err-\(i)\n", "run \(i) got \(all[i] ?? "nothing")")
        }
    }

    @Test func missingProgramIsASetupError() {
        let o = Fixtures.jail.run(Fixtures.config(["no-such-program-here"]))
        #expect(o.result.status == .setupError)
        #expect(o.result.message?.contains("not found") == true)
        #expect(o.result.mirroredExitCode == 125)
    }

    @Test func badBindIsASetupError() {
        var c = Fixtures.config(["/bin/true"])
        c.binds = [Bind(source: "/does/not/exist", target: "/x")]
        let o = Fixtures.jail.run(c)
        #expect(o.result.status == .setupError)
        #expect(o.result.message?.contains("/does/not/exist") == true)
    }

    @Test func resultEncodesWithSnakeCaseKeys() throws {
        let o = Fixtures.jail.run(Fixtures.config(["/bin/true"]))
        let json = String(decoding: try JSONEncoder().encode(o.result), as: UTF8.self)
        for key in ["\"status\":\"ok\"", "\"exit_code\":0", "\"wall_ms\"", "\"cpu_user_ms\"", "\"stdout_truncated\":false"] {
            #expect(json.contains(key), "\(key) missing in \(json)")
        }
    }
}
