import Foundation
import Supervisor
import Testing

/// `POST /v1/exec` over real HTTP with a real worker: what it refuses, and
/// the streamed variant.
@Suite("Exec: bad input and streaming")
struct ExecInputTests {
    @Test func malformedJSONIs400AndAWrongShapeIs422NamingTheField() async throws {
        try await withLiveDaemon { daemon in
            let (_, token) = try await daemon.tenantWithKey("input")
            func post(_ text: String) async throws -> LocalHTTPClient.Response {
                try await LocalHTTPClient.send("POST", "/v1/exec", to: .tcp(host: "127.0.0.1", port: daemon.port),
                                               headers: bearer(token) + [("Content-Type", "application/json")],
                                               body: Data(text.utf8), timeout: .seconds(60))
            }
            let broken = try await post(#"{"language": "python", "code": "#)
            #expect(broken.status == 400)
            #expect(broken.errorCode == "malformed_json")

            let empty = try await post("")
            #expect(empty.status == 400)
            #expect(empty.errorCode == "malformed_json")

            let notAnObject = try await post("[1, 2]")
            #expect(notAnObject.status == 400 || notAnObject.status == 422, "got \(notAnObject.status)")
            #expect(notAnObject.errorCode != nil)

            let missing = try await post(#"{"language": "python"}"#)
            #expect(missing.status == 422)
            #expect(missing.errorMessage?.contains("code") == true, "\(missing.errorMessage ?? "")")

            let mistyped = try await post(#"{"language": "python", "code": "print(1)", "timeout_ms": "soon"}"#)
            #expect(mistyped.status == 422)
            #expect(mistyped.errorMessage?.contains("timeout_ms") == true, "\(mistyped.errorMessage ?? "")")
        }
    }

    @Test func hugeBodiesAre413DeclaredOrChunked() async throws {
        try await withLiveDaemon({ $0.maxBodyBytes = 64 * 1024 }) { daemon in
            let (_, token) = try await daemon.tenantWithKey("huge")
            let code = String(repeating: "#", count: 2 * 1024 * 1024)
            let body = Live.json(["language": "python", "code": code])

            let declared = try await LocalHTTPClient.send("POST", "/v1/exec", to: .tcp(host: "127.0.0.1", port: daemon.port),
                                                          headers: bearer(token), body: body, timeout: .seconds(60))
            #expect(declared.status == 413)
            #expect(declared.errorCode == "body_too_large")

            let chunked = try await LocalHTTPClient.send("POST", "/v1/exec", to: .tcp(host: "127.0.0.1", port: daemon.port),
                                                         headers: bearer(token) + [("Transfer-Encoding", "chunked")],
                                                         body: body, timeout: .seconds(60))
            #expect(chunked.status == 413)
            #expect(chunked.errorCode == "body_too_large")

            // A file upload past the limit too.
            let upload = try await LocalHTTPClient.send("PUT", "/v1/files/big.bin", to: .tcp(host: "127.0.0.1", port: daemon.port),
                                                        headers: bearer(token) + [("Transfer-Encoding", "chunked")],
                                                        body: Data(repeating: 7, count: 1 << 20), timeout: .seconds(60))
            #expect(upload.status == 413)

            // And the service is fine afterwards.
            let ok = try await daemon.run(token, "python", "print(6 * 7)")
            #expect(ok["stdout"] as? String == "42\n")
        }
    }

    @Test func unknownLanguageIs400() async throws {
        try await withLiveDaemon { daemon in
            let (_, token) = try await daemon.tenantWithKey("lang")
            for language in ["cobol", "", "Python", "python3"] {
                let response = try await daemon.exec(token, ["language": language, "code": "print(1)"])
                #expect(response.status == 400, "\(language): \(response.status)")
                #expect(response.errorMessage?.contains("language") == true)
            }
        }
    }

    @Test(arguments: [
        ("timeout_ms", -1), ("timeout_ms", 0), ("timeout_ms", Int.max), ("timeout_ms", 86_400_000_000),
        ("cpu_ms", -5), ("cpu_ms", 1 << 40),
        ("memory_mb", -1), ("memory_mb", 0), ("memory_mb", 1 << 30),
        ("output_bytes", -1), ("output_bytes", 1 << 40),
    ])
    func negativeOrAbsurdLimitsAre422NamingTheField(field: String, value: Int) async throws {
        try await withLiveDaemon { daemon in
            let (_, token) = try await daemon.tenantWithKey("limits")
            let response = try await daemon.exec(token, ["language": "python", "code": "print(1)", field: value])
            #expect(response.status == 422, "\(field)=\(value): \(response.status) \(String(decoding: response.body, as: UTF8.self))")
            #expect(response.errorMessage?.contains(field) == true, "\(response.errorMessage ?? "")")
            // Refused before any worker ran.
            #expect(try await daemon.admin.workers().allSatisfy { $0.state != "running" })
        }
    }

    @Test func networkTrueIs422WhenTheEgressProxyIsOff() async throws {
        try await withLiveDaemon({ $0.egressEnabled = false }) { daemon in
            let (_, token) = try await daemon.tenantWithKey("net")
            let response = try await daemon.exec(token, ["language": "python", "code": "print(1)", "network": true])
            #expect(response.status == 422)
            #expect(response.errorMessage?.contains("egress.enabled") == true, "\(response.errorMessage ?? "")")
            let explicit = try await daemon.exec(token, ["language": "python", "code": "print(1)", "network": false])
            #expect(explicit.status == 200)
        }
    }

    @Test func unknownAndRevokedKeysAre401() async throws {
        try await withLiveDaemon { daemon in
            let (_, token) = try await daemon.tenantWithKey("keys")
            let request: [String: Any] = ["language": "bash", "code": "echo hi"]
            #expect(try await daemon.exec(token, request).status == 200)

            let unknown = try await daemon.exec("wk_live_" + String(repeating: "x", count: 40), request)
            #expect(unknown.status == 401)
            #expect(unknown.errorCode == "unauthenticated")
            let garbage = try await daemon.exec("not a key at all", request)
            #expect(garbage.status == 401)
            let none = try await LocalHTTPClient.send("POST", "/v1/exec", to: .tcp(host: "127.0.0.1", port: daemon.port),
                                                      body: Live.json(request))
            #expect(none.status == 401)
            #expect(none.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)

            let keys = try await daemon.admin.listKeys(of: "keys")
            _ = try await daemon.admin.revokeKey(try #require(keys.first).id)
            let revoked = try await daemon.exec(token, request)
            #expect(revoked.status == 401)
            #expect(revoked.errorCode == "unauthenticated")
            let files = try await daemon.files("GET", "/v1/files", token: token)
            #expect(files.status == 401)
        }
    }

    @Test func streamedEventsArriveInOrderStdoutStderrResult() async throws {
        try await withLiveDaemon { daemon in
            let (_, token) = try await daemon.tenantWithKey("sse")
            let code = "import sys, time\nprint('one', flush=True)\ntime.sleep(0.3)\n"
                + "print('two', file=sys.stderr, flush=True)\ntime.sleep(0.3)\nprint('three', flush=True)\nsys.exit(2)\n"
            let response = try await daemon.exec(token, ["language": "python", "code": code], stream: true)
            #expect(response.status == 200)
            #expect(response.header("Content-Type")?.hasPrefix("text/event-stream") == true)
            let events = serverSentEvents(response.body)
            let names = events.map(\.event)
            #expect(names.last == "result", "events: \(names)")
            #expect(names.filter { $0 == "result" }.count == 1)

            // Chunks may split anywhere; adjacent chunks of one stream are joined.
            var text = ""
            var current = ""
            for event in events where event.event == "stdout" || event.event == "stderr" {
                let chunk = try #require(try JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: Any])
                #expect(chunk["encoding"] as? String == "utf8")
                if event.event != current { text += "[\(event.event)]" }
                current = event.event
                text += chunk["data"] as? String ?? ""
            }
            // Each line on its stream, in the order printed.
            #expect(text == "[stdout]one\n[stderr]two\n[stdout]three\n", "got \(text)")

            let last = try #require(events.last)
            let result = try #require(try JSONSerialization.jsonObject(with: Data(last.data.utf8)) as? [String: Any])
            #expect(result["status"] as? String == "exited_nonzero")
            #expect(result["exit_code"] as? Int == 2)
            #expect(result["stdout"] == nil, "streamed output is not repeated in the result")
            #expect(result["request_id"] as? String == response.header("X-Request-Id"))
        }
    }

    @Test func aStreamedRefusalIsAPlainJSONError() async throws {
        try await withLiveDaemon { daemon in
            let (_, token) = try await daemon.tenantWithKey("sse-bad")
            let response = try await daemon.exec(token, ["language": "python", "code": "", "memory_mb": -3], stream: true)
            #expect(response.status == 422)
            #expect(response.errorMessage?.contains("memory_mb") == true)
        }
    }
}
