import Foundation
import Store
@testable import Supervisor
import Testing

/// `POST /v1/fetch` against real HTTP servers on 127.0.0.1, through the
/// egress proxy.
/// One test at a time: each runs a daemon and a local server.
@Suite("Fetch", .serialized)
struct FetchTests {
    @Test func getHeadAndPost() async throws {
        try await withLocalServer { server, daemon in
            let (_, token) = try await daemon.tenantWithKey("fetcher")
            let base = "http://127.0.0.1:\(server.port)"
            let get = try await daemon.fetch(token, ["url": "\(base)/text/fetched"])
            #expect(get.status == 200, "\(String(decoding: get.body, as: UTF8.self))")
            let page = try #require(get.json)
            #expect(page["status"] as? Int == 200)
            #expect(page["body"] as? String == "hello fetched\n")
            #expect(page["encoding"] as? String == "utf8")
            #expect(page["truncated"] as? Bool == false)
            #expect(page["url"] as? String == "\(base)/text/fetched")
            #expect((page["headers"] as? [String: String])?["content-type"] == "text/plain", "\(page)")
            #expect((page["request_id"] as? String)?.isEmpty == false)
            let document = try OpenAPITests.document(try await daemon.http("GET", "/v1/openapi.json"))
            let problems = SchemaValidator(document: document).validate(page, against: "#/components/schemas/FetchResult")
            #expect(problems.isEmpty, "\(problems)")

            let head = try #require(try await daemon.fetch(token, ["url": "\(base)/bytes/10", "method": "HEAD"]).json)
            #expect(head["status"] as? Int == 200 && head["body"] as? String == "", "\(head)")
            #expect((head["headers"] as? [String: String])?["content-length"] == "10", "\(head)")

            let post = try #require(try await daemon.fetch(token, ["url": "\(base)/echo", "method": "POST", "body": "ping",
                                                                   "headers": ["Content-Type": "text/plain"]]).json)
            #expect(post["body"] as? String == "ping", "\(post)")
            let binary = Data([0, 255, 1, 254])
            let echoed = try #require(try await daemon.fetch(token, ["url": "\(base)/echo", "method": "POST",
                                                                     "body": binary.base64EncodedString(), "body_encoding": "base64"]).json)
            #expect(echoed["encoding"] as? String == "base64" && echoed["body"] as? String == binary.base64EncodedString(), "\(echoed)")
            #expect(server.requests.map(\.method) == ["GET", "HEAD", "POST", "POST"])
            #expect(server.requests.last?.body == Array(binary))
        }
    }

    @Test func binaryBodiesComeAsBase64() async throws {
        try await withLocalServer { server, daemon in
            let (_, token) = try await daemon.tenantWithKey("binary")
            let page = try #require(try await daemon.fetch(token, ["url": "http://127.0.0.1:\(server.port)/bytes/300"]).json)
            #expect(page["encoding"] as? String == "base64")
            let body = try #require(Data(base64Encoded: page["body"] as? String ?? ""))
            #expect(Array(body) == (0..<300).map { UInt8($0 % 251) })
            #expect(page["bytes"] as? Int == 300)
        }
    }

    @Test func redirectsAreFollowedUpToTheLimit() async throws {
        try await withLocalServer { server, daemon in
            let (_, token) = try await daemon.tenantWithKey("redirected")
            let base = "http://127.0.0.1:\(server.port)"
            let followed = try #require(try await daemon.fetch(token, ["url": "\(base)/redirect/3", "max_redirects": 5]).json)
            #expect(followed["body"] as? String == "arrived\n" && followed["redirects"] as? Int == 3, "\(followed)")
            #expect(followed["url"] as? String == "\(base)/redirect/0")

            let tooMany = try await daemon.fetch(token, ["url": "\(base)/redirect/3", "max_redirects": 2])
            #expect(tooMany.status == 502 && tooMany.errorCode == "too_many_redirects", "\(String(decoding: tooMany.body, as: UTF8.self))")

            let notFollowed = try #require(try await daemon.fetch(token, ["url": "\(base)/redirect/3", "max_redirects": 0]).json)
            #expect(notFollowed["status"] as? Int == 302, "\(notFollowed)")
            #expect((notFollowed["headers"] as? [String: String])?["location"] == "/redirect/2")
        }
    }

    @Test func theSizeCapTruncatesAndBadSizesAreRefused() async throws {
        try await withLocalServer { server, daemon in
            let (_, token) = try await daemon.tenantWithKey("capped")
            let url = "http://127.0.0.1:\(server.port)/bytes/100000"
            let capped = try #require(try await daemon.fetch(token, ["url": url, "max_bytes": 1000]).json)
            #expect(capped["truncated"] as? Bool == true && capped["bytes"] as? Int == 1000, "\(capped)")
            let exact = try #require(try await daemon.fetch(token, ["url": url, "max_bytes": 100_000]).json)
            #expect(exact["truncated"] as? Bool == false && exact["bytes"] as? Int == 100_000)

            for bad in [0, 1 << 40] {
                let refused = try await daemon.fetch(token, ["url": url, "max_bytes": bad])
                #expect(refused.status == 422 && refused.errorMessage?.contains("max_bytes") == true, "\(bad): \(refused.status)")
            }
            let tooLarge = try await daemon.fetch(token, ["url": "\(url)", "method": "POST", "body": String(repeating: "x", count: 9 << 20)])
            #expect(tooLarge.status == 413, "\(tooLarge.status)")
        }
    }

    @Test func aPageThatNeverAnswersIs408() async throws {
        try await withLocalServer { server, daemon in
            let (_, token) = try await daemon.tenantWithKey("patient")
            let slow = try await daemon.fetch(token, ["url": "http://127.0.0.1:\(server.port)/hang", "timeout_ms": 500])
            #expect(slow.status == 408 && slow.errorCode == "timeout", "\(String(decoding: slow.body, as: UTF8.self))")
        }
    }

    @Test func malformedRequestsAre400() async throws {
        try await withLocalServer { server, daemon in
            let (_, token) = try await daemon.tenantWithKey("sloppy")
            let base = "http://127.0.0.1:\(server.port)"
            let notJSON = try await daemon.http("POST", "/v1/fetch", headers: bearer(token), body: Data("{url".utf8))
            #expect(notJSON.status == 400)
            for body: [String: Any] in [["url": "ftp://127.0.0.1/x"], ["url": "not a url"], ["url": base, "method": "PUT"],
                                        ["url": base, "headers": ["X-A": "one\r\ntwo"]], ["url": base, "body": "x"],
                                        ["url": base, "method": "POST", "body": "%%%", "body_encoding": "base64"]] {
                let response = try await daemon.fetch(token, body)
                #expect(response.status == 400, "\(body): \(response.status) \(String(decoding: response.body, as: UTF8.self))")
            }
            #expect(try await daemon.fetch(token, ["method": "GET"]).status == 422)
            #expect(server.requests.isEmpty)
        }
    }

    /// Denied hosts are 403 with the policy's message, whether the fetch
    /// decision refuses the URL, or the proxy refuses a connection: the first
    /// one, an HTTPS tunnel, a redirect's, or a name that resolves to a
    /// private address.
    @Test func deniedHostsAre403WithThePolicysMessage() async throws {
        try await withLocalServer { server, daemon in
            let (tenant, token) = try await daemon.tenantWithKey("fenced")
            let base = "http://127.0.0.1:\(server.port)"
            let cases: [(url: String, message: String)] = [
                ("http://10.1.2.3/x", "host 10.1.2.3 is private, link-local or metadata"),
                ("http://127.0.0.1:9/x", "port 9 of 127.0.0.1 is closed to egress"),
                ("https://127.0.0.1:22/", "port 22 of 127.0.0.1 is closed to egress"),
                ("\(base)/to?url=http%3A%2F%2F127.0.0.1%3A9%2Fx", "port 9 of 127.0.0.1 is closed to egress"),
            ]
            for (url, message) in cases {
                let response = try await daemon.fetch(token, ["url": url])
                #expect(response.status == 403 && response.errorCode == "policy_denied", "\(url): \(response.status)")
                #expect(response.errorMessage?.contains(message) == true, "\(url): \(response.errorMessage ?? "")")
            }
            // The redirect's first hop reached the server; nothing else did.
            #expect(server.requests.map(\.uri) == ["/to?url=http%3A%2F%2F127.0.0.1%3A9%2Fx"])
            let decisions = try await daemon.connectDecisions(tenant.id)
            #expect(decisions.map(\.decision) == ["deny", "deny", "allow", "deny"], "\(decisions)")
        }
        let server = try await TestWebServer.start()
        defer { Task { await server.stop() } }
        try await withEgressDaemon(["ports": [server.port], "allow_hosts": ["localhost"]]) { daemon in
            let (_, token) = try await daemon.tenantWithKey("rebinding")
            let response = try await daemon.fetch(token, ["url": "http://localhost:\(server.port)/text/private"])
            #expect(response.status == 403, "\(response.status)")
            #expect(response.errorMessage?.contains("localhost resolves to 127.0.0.1, a loopback address") == true, "\(response.errorMessage ?? "")")
            #expect(server.requests.isEmpty)
        }
    }

    /// A fetch is a metered call whose egress is what crossed the wire.
    @Test func fetchIsMeteredWithItsEgress() async throws {
        try await withLocalServer { server, daemon in
            let (tenant, token) = try await daemon.tenantWithKey("metered")
            #expect(try await daemon.fetch(token, ["url": "http://127.0.0.1:\(server.port)/bytes/50000"]).status == 200)
            #expect(try await daemon.used("fetch.calls.day", of: tenant.id) == 1)
            #expect(try await daemon.used("egress.bytes.month", of: tenant.id) == Double(server.wireBytes))

            _ = try await daemon.admin.setTenantLimit(tenant.id, metric: "egress.bytes.month", limit: Limit(1000))
            let refused = try await daemon.fetch(token, ["url": "http://127.0.0.1:\(server.port)/text/more"])
            #expect(refused.status == 429 && refused.errorCode == "quota_exceeded", "\(refused.status)")
            #expect(server.requests.count == 1)
        }
    }

    /// The fetch entrance on the host's 127.0.0.1 serves only connections from
    /// ports a fetch announced: any other local process is closed unread and
    /// reaches nothing.
    /// A fetch the policy holds goes out only once approved, through the
    /// proxy like any other, and its answer waits in the approval.
    @Test func aHeldFetchGoesOutOnlyOnceApproved() async throws {
        try await withLocalServer { server, daemon in
            try await daemon.admin.holdForApproval(["fetch"])
            let (tenant, token) = try await daemon.tenantWithKey("careful-fetcher")
            let held = try await daemon.fetch(token, ["url": "http://127.0.0.1:\(server.port)/echo", "method": "POST",
                                                      "body": "approved ping", "timeout_ms": 20_000])
            #expect(held.status == 202, "\(String(decoding: held.body, as: UTF8.self))")
            let id = try #require(held.json?["approval_id"] as? String)
            #expect(server.requests.isEmpty, "nothing goes out before the decision")
            #expect(try await daemon.used("fetch.calls.day", of: tenant.id) == 0)

            _ = try await daemon.admin.approve(id, note: "looked fine")
            let done = try await daemon.http("GET", "/v1/approvals/\(id)?wait=60", headers: bearer(token))
            #expect(done.json?["status"] as? String == "completed", "\(String(decoding: done.body, as: UTF8.self))")
            let result = try #require(done.json?["result"] as? [String: Any], "\(String(decoding: done.body, as: UTF8.self))")
            #expect(result["status"] as? Int == 200 && result["body"] as? String == "approved ping", "\(result)")
            #expect((result["request_id"] as? String)?.isEmpty == false)
            #expect(server.requests.map(\.method) == ["POST"])
            #expect(try await daemon.used("fetch.calls.day", of: tenant.id) == 1)
            #expect(try await daemon.used("egress.bytes.month", of: tenant.id) > 0)

            // A denied one never goes out.
            let refused = try await daemon.fetch(token, ["url": "http://127.0.0.1:\(server.port)/text/never"])
            let refusedID = try #require(refused.json?["approval_id"] as? String)
            _ = try await daemon.admin.deny(refusedID, note: "no")
            let denied = try await daemon.http("GET", "/v1/approvals/\(refusedID)?wait=10", headers: bearer(token))
            #expect(denied.json?["status"] as? String == "denied")
            #expect(server.requests.map(\.uri) == ["/echo"])
        }
    }

    @Test func theFetchEntranceServesOnlyAnnouncedConnections() async throws {
        try await withLocalServer { server, daemon in
            let (_, token) = try await daemon.tenantWithKey("entrance")
            #expect(try await daemon.fetch(token, ["url": "http://127.0.0.1:\(server.port)/text/announced"]).status == 200)
            let entrance = try await #require(daemon.daemon.egress).fetchEntrance().port
            let answer = try await runOffPool("/usr/bin/curl", ["-sS", "--max-time", "10", "-x", "http://127.0.0.1:\(entrance)",
                                                                "http://127.0.0.1:\(server.port)/text/stranger"])
            #expect(answer.status != 0, "a stranger went through the fetch entrance: \(answer.output)")
            #expect(server.requests.map(\.uri) == ["/text/announced"])
        }
    }
}

extension RunningDaemon {
    func fetch(_ token: String, _ request: [String: Any]) async throws -> LocalHTTPClient.Response {
        try await LocalHTTPClient.send("POST", "/v1/fetch", to: .tcp(host: "127.0.0.1", port: port),
                                       headers: bearer(token) + [("Content-Type", "application/json")],
                                       body: Live.json(request), timeout: .seconds(60))
    }
}
