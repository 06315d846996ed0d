import Foundation
import Store
import Supervisor
import TestKit
import Testing

/// The browser endpoints over real HTTP: a real supervisor, a real worker in
/// its tenant jail, a real Chromium in its own jail, and pages served by a
/// local server on 127.0.0.1 through the real egress proxy.
@Suite("Browser API", .serialized)
struct BrowserAPITests {
    static let colours = """
        <!doctype html><html><head><title>Colours</title><style>body{margin:0;background:#fff}
        #red{position:absolute;left:0;top:0;width:100px;height:100px;background:#f00}</style></head>
        <body><div id="red"></div><p style="position:absolute;top:200px">Served on loopback</p></body></html>
        """

    @Test func screenshotPDFContentAndEvaluateOfALocalPage() async throws {
        try await withLocalServer { server, daemon in
            server.serve("colours", html: Self.colours)
            let url = "http://127.0.0.1:\(server.port)/html/colours"
            let (tenant, token) = try await daemon.tenantWithKey("pages")

            let shot = try await daemon.browser(token, "screenshot", ["url": url, "viewport": ["width": 400, "height": 300]])
            #expect(shot.status == 200, "\(shot.text)")
            #expect(shot.header("Content-Type") == "image/png")
            #expect(shot.header("Warden-Page-Status") == "200")
            #expect(shot.header("X-Request-Id") != nil)
            let image = try PNGImage([UInt8](shot.body))
            #expect(image.width == 400 && image.height == 300)
            #expect(image.distinctColors > 2)
            let red = image.pixel(50, 50), white = image.pixel(300, 50)
            #expect(red.r == 255 && red.g == 0 && red.b == 0 && white.g == 255)

            let asJSON = try await daemon.browser(token, "screenshot", ["url": url], accept: "application/json")
            #expect(asJSON.status == 200 && asJSON.header("Content-Type")?.hasPrefix("application/json") == true, "\(asJSON.text)")
            let document = try #require(asJSON.json)
            #expect(document["content_type"] as? String == "image/png" && document["http_status"] as? Int == 200)
            let decoded = try #require(Data(base64Encoded: document["data"] as? String ?? ""))
            #expect(try PNGImage([UInt8](decoded)).width == 1280)
            #expect(document["request_id"] as? String == asJSON.header("X-Request-Id"))

            let pdf = try await daemon.browser(token, "pdf", ["url": url, "landscape": true])
            #expect(pdf.status == 200 && pdf.header("Content-Type") == "application/pdf")
            #expect(pdf.body.prefix(5) == Data("%PDF-".utf8))

            let content = try await daemon.page(token, "content", ["url": url])
            #expect(content["title"] as? String == "Colours" && content["http_status"] as? Int == 200)
            #expect((content["text"] as? String)?.contains("Served on loopback") == true)
            #expect(content["url"] as? String == url)

            let value = try await daemon.page(token, "evaluate", ["url": url, "function": "(n) => ({ n, title: document.title })",
                                                                  "arguments": [7]])
            #expect((value["result"] as? [String: Any])?["n"] as? Int == 7)
            #expect((value["result"] as? [String: Any])?["title"] as? String == "Colours")

            // Every page went through the proxy, decided as the browser's connections.
            #expect(server.requests.filter { $0.uri == "/html/colours" }.count == 5)
            let decisions = try await daemon.connectDecisions(tenant.id)
            #expect(!decisions.isEmpty && decisions.allSatisfy { $0.decision == "allow" })
            // Each call is one browser session, and the page's bytes count as egress.
            #expect(try await daemon.used("browser.sessions.month", of: tenant.id) == 5)
            #expect(try await daemon.used("browser.calls.day", of: tenant.id) == 5)
            #expect(try await daemon.used("egress.bytes.month", of: tenant.id) > Double(5 * Self.colours.utf8.count))
        }
    }

    /// Two tenants, and two calls of one tenant, share no cookies and no storage.
    @Test func callsShareNoCookiesOrStorage() async throws {
        try await withLocalServer { server, daemon in
            server.serve("jar", html: "<title>jar</title><p>jar</p>")
            let url = "http://127.0.0.1:\(server.port)/html/jar"
            let (_, first) = try await daemon.tenantWithKey("jar-one")
            let (_, second) = try await daemon.tenantWithKey("jar-two")
            let look = "() => ({ cookie: document.cookie, stored: localStorage.getItem('mark'), session: sessionStorage.getItem('mark') })"
            let write = "() => { document.cookie = 'mark=set; max-age=3600'; localStorage.setItem('mark', 'set'); sessionStorage.setItem('mark', 'set'); return document.cookie }"
            let written = try await daemon.page(first, "evaluate", ["url": url, "function": write])
            #expect(written["result"] as? String == "mark=set", "the page could set a cookie: \(written)")
            for (token, who) in [(first, "the same tenant's next call"), (second, "another tenant")] {
                let seen = try await daemon.page(token, "evaluate", ["url": url, "function": look])
                let found = try #require(seen["result"] as? [String: Any])
                #expect(found["cookie"] as? String == "", "\(who) saw the cookie")
                #expect(found["stored"] is NSNull && found["session"] is NSNull, "\(who) saw the storage: \(found)")
            }
            // Nor does the server see a cookie come back.
            #expect(server.requests.filter { $0.uri == "/html/jar" }.count == 3)
        }
    }

    /// A host the policy does not let through: 403 with the policy's own
    /// message, for http (forwarded) and https (a tunnel) alike.
    @Test func aDeniedHostIsAnsweredWithThePolicysMessage() async throws {
        try await withLocalServer { server, daemon in
            let (_, token) = try await daemon.tenantWithKey("denied")
            // Only the server's own port is open: another port of 127.0.0.1 is not.
            let closed = server.port == 65_000 ? 65_001 : 65_000
            for url in ["http://127.0.0.1:\(closed)/", "https://127.0.0.1:\(closed)/"] {
                let response = try await daemon.browser(token, "content", ["url": url])
                #expect(response.status == 403, "\(url): \(response.text)")
                #expect(response.errorCode == "policy_denied")
                #expect(response.errorMessage?.contains("port \(closed) of 127.0.0.1 is closed to egress") == true, "\(response.text)")
            }
            // The metadata address is denied before anything starts.
            let metadata = try await daemon.browser(token, "screenshot", ["url": "http://169.254.169.254/latest/meta-data"])
            #expect(metadata.status == 403 && metadata.errorMessage?.contains("169.254.169.254") == true, "\(metadata.text)")
        }
    }

    /// A page that never finishes loading: 408. Then the browser is fine.
    @Test func aPageThatNeverLoadsIsATimeout() async throws {
        try await withLocalServer { server, daemon in
            server.serve("stuck", html: "<p>waiting</p><img src=\"/hang\">")
            let (_, token) = try await daemon.tenantWithKey("stuck")
            let started = Date()
            let stuck = try await daemon.browser(token, "screenshot", ["url": "http://127.0.0.1:\(server.port)/html/stuck",
                                                                      "timeout_ms": 3000])
            #expect(stuck.status == 408 && stuck.errorCode == "timeout", "\(stuck.text)")
            #expect(Date().timeIntervalSince(started) < 60)
            // domcontentloaded does not wait for the image.
            let early = try await daemon.page(token, "content", ["url": "http://127.0.0.1:\(server.port)/html/stuck",
                                                                "wait_until": "domcontentloaded", "timeout_ms": 10000])
            #expect((early["text"] as? String)?.contains("waiting") == true)
        }
    }

    @Test func badInputIsRefusedBeforeAnythingRuns() async throws {
        try await withLiveDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("refused")
            let cases: [(String, [String: Any], Int, String)] = [
                ("content", ["url": "file:///etc/passwd"], 400, "invalid_request"),
                ("content", [:], 400, "invalid_request"),
                ("screenshot", ["html": "<p>", "viewport": ["width": 99999, "height": 10]], 422, "invalid_field"),
                ("screenshot", ["html": "<p>", "timeout_ms": 10_000_000], 422, "invalid_field"),
                ("pdf", ["html": "<p>", "full_page": true], 400, "invalid_request"),
                ("evaluate", ["html": "<p>"], 400, "invalid_request"),
                ("evaluate", ["html": "<p>", "expression": "(() => { throw new Error('boom') })()"], 422, "evaluation_failed"),
                ("content", ["html": String(repeating: "<p>too much</p>", count: 80_000)], 413, "body_too_large"),
            ]
            for (tool, body, status, code) in cases {
                let response = try await daemon.browser(token, tool, body)
                #expect(response.status == status && response.errorCode == code, "\(tool) \(body): \(response.status) \(response.text)")
            }
            // Only the one that ran counts.
            #expect(try await daemon.used("browser.sessions.month", of: tenant.id) == 1)
            let (_, creator) = try await daemon.tenantWithKey("no-browser", plan: "creator")
            let denied = try await daemon.browser(creator, "content", ["html": "<p>x</p>"])
            #expect(denied.status == 403 && denied.errorMessage == "tool browser.content is not allowed on plan creator")
        }
    }

    /// Real answers, good and bad, against the OpenAPI document's schemas and status lists.
    @Test func answersMatchTheDocument() async throws {
        try await withLiveDaemon { daemon in
            let served = try OpenAPITests.document(try await daemon.http("GET", "/v1/openapi.json"))
            let validator = SchemaValidator(document: served)
            let paths = try #require(served["paths"] as? [String: [String: Any]])
            let (_, token) = try await daemon.tenantWithKey("documented")
            let page = "<title>Doc</title><p>documented</p>"
            let answers: [(String, [String: Any], String?, String)] = [
                ("content", ["html": page], nil, "BrowserContent"),
                ("evaluate", ["html": page, "expression": "[1, 'two', { three: 3 }]"], nil, "BrowserEvaluation"),
                ("screenshot", ["html": page], "application/json", "BrowserFile"),
                ("pdf", ["html": page], "application/json", "BrowserFile"),
                ("content", ["url": "ftp://example.com/"], nil, "Error"),
                ("evaluate", ["html": page, "expression": "null.x"], nil, "Error"),
                ("screenshot", ["html": "<script>for (;;) {}</script>", "timeout_ms": 1000], nil, "Error"),
            ]
            for (tool, body, accept, schema) in answers {
                let response = try await daemon.browser(token, tool, body, accept: accept)
                let value = try JSONSerialization.jsonObject(with: response.body)
                let problems = validator.validate(value, against: "#/components/schemas/\(schema)")
                #expect(problems.isEmpty, "\(tool) as \(schema): \(problems) in \(response.text.prefix(300))")
                let responses = ((paths["/v1/browser/\(tool)"]?["post"] as? [String: Any])?["responses"] as? [String: Any]) ?? [:]
                #expect(responses[String(response.status)] != nil, "\(tool) answered \(response.status), which the document does not list")
            }
        }
    }

    /// A browser call held for approval runs once approved, through the
    /// proxy, and its answer waits at /v1/approvals/{id}: a screenshot as base64.
    @Test func aHeldBrowserCallRunsAfterApproval() async throws {
        try await withLocalServer { server, daemon in
            server.serve("held", html: BrowserAPITests.colours)
            try await daemon.admin.holdForApproval(["browser"])
            let (tenant, token) = try await daemon.tenantWithKey("careful-browser")
            let url = "http://127.0.0.1:\(server.port)/html/held"
            let held = try await daemon.browser(token, "screenshot", ["url": url, "viewport": ["width": 320, "height": 200]])
            #expect(held.status == 202, "\(held.text)")
            let shotID = try #require(held.json?["approval_id"] as? String)
            let heldContent = try await daemon.browser(token, "content", ["url": url])
            let contentID = try #require(heldContent.json?["approval_id"] as? String)
            #expect(server.requests.isEmpty, "nothing is fetched before the decision")
            for id in [shotID, contentID] { _ = try await daemon.admin.approve(id, note: nil) }

            let shot = try await daemon.http("GET", "/v1/approvals/\(shotID)?wait=60", headers: bearer(token))
            #expect(shot.json?["status"] as? String == "completed", "\(shot.text)")
            let result = try #require(shot.json?["result"] as? [String: Any])
            let png = try #require(Data(base64Encoded: result["content"] as? String ?? ""))
            let image = try PNGImage([UInt8](png))
            #expect(image.width == 320 && image.height == 200 && image.pixel(20, 20).r == 255)

            let content = try await daemon.http("GET", "/v1/approvals/\(contentID)?wait=60", headers: bearer(token))
            let page = try #require(content.json?["result"] as? [String: Any], "\(content.text)")
            #expect(page["title"] as? String == "Colours" && page["http_status"] as? Int == 200)
            #expect(try await daemon.used("browser.sessions.month", of: tenant.id) == 2)
            #expect(try await daemon.used("egress.bytes.month", of: tenant.id) > 0)
        }
    }

    /// Calls of one tenant at once: each gets its own page, its own context
    /// and its own way to the proxy, and sees only its own page and cookies.
    @Test func concurrentCallsOfOneTenantKeepToTheirOwnPages() async throws {
        try await withLocalServer { server, daemon in
            for n in 0..<4 { server.serve("p\(n)", html: "<title>page \(n)</title><p>\(n)</p>") }
            let (tenant, token) = try await daemon.tenantWithKey("busy")
            let probe = "(n) => { const before = document.cookie; document.cookie = 'n=' + n; return { title: document.title, before } }"
            let answers = try await withThrowingTaskGroup(of: (Int, LocalHTTPClient.Response).self) { group in
                for n in 0..<4 {
                    group.addTask {
                        let url = "http://127.0.0.1:\(server.port)/html/p\(n)"
                        return (n, try await daemon.browser(token, "evaluate", ["url": url, "function": probe, "arguments": [n]]))
                    }
                }
                var all: [Int: LocalHTTPClient.Response] = [:]
                for try await (n, response) in group { all[n] = response }
                return all
            }
            for n in 0..<4 {
                let answer = try #require(answers[n])
                #expect(answer.status == 200, "call \(n): \(answer.text)")
                let value = try #require(answer.json?["result"] as? [String: Any], "call \(n): \(answer.text)")
                #expect(value["title"] as? String == "page \(n)")
                #expect(value["before"] as? String == "", "call \(n) found a cookie")
            }
            #expect(try await daemon.used("browser.sessions.month", of: tenant.id) == 4)
            #expect(Set(server.requests.map(\.uri)) == Set((0..<4).map { "/html/p\($0)" }))
        }
    }
}
