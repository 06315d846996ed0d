import Foundation
import Store
import Supervisor
import TestKit
import Testing

/// The tenant's browser as the supervisor runs it: inside the tenant's memory,
/// stopped when idle, gone with its worker, never around the proxy.
@Suite("Browser lifecycle", .serialized)
struct BrowserLifecycleAPITests {
    /// A page that eats memory meets the tenant's memory limit: 507 with a
    /// clear error, and the next call runs on a fresh browser.
    @Test(.enabled(if: Live.isRoot, "memory limits need cgroups (root)"))
    func aPageThatEatsMemoryHitsTheTenantsLimit() async throws {
        try await withLiveDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("hungry")
            _ = try await daemon.admin.setTenantLimit(tenant.id, metric: "tenant.memory_mb", limit: Limit(640))
            let hog = "(() => { const kept = []; for (;;) { kept.push(new Float64Array(1 << 22).fill(Math.random())) } })()"
            let eaten = try await daemon.browser(token, "evaluate", ["html": "<p>hungry</p>", "expression": hog, "timeout_ms": 60000])
            #expect(eaten.status == 507 && eaten.errorCode == "memory_exceeded", "\(eaten.status) \(eaten.text)")
            #expect(eaten.errorMessage?.contains("576 MiB") == true, "the browser's share of 640 MiB: \(eaten.text)")
            let next = try await daemon.browser(token, "evaluate", ["html": "<p>fine</p>", "expression": "6 * 7"])
            #expect(next.status == 200 && next.json?["result"] as? Int == 42, "\(next.text)")
            #expect(next.header("Warden-Browser-Start-Ms") != nil, "the next call starts a new browser")
            // The worker itself lived through it.
            #expect(try await daemon.run(token, "bash", "echo alive")["stdout"] as? String == "alive\n")
        }
    }

    @Test func anIdleBrowserStopsAndItsProcessesGo() async throws {
        try await withLiveDaemon({ $0.browserIdleSeconds = 1 }) { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("idle")
            // A call in progress keeps the browser, however long it takes.
            let running = Task {
                try await daemon.browser(token, "evaluate", ["html": "<p>one</p>",
                                                             "expression": "new Promise((r) => setTimeout(() => r(1), 3000))"])
            }
            var seen: [ProcessTree.Identity] = []
            #expect(try await Live.eventually(within: 60) {
                seen = try await daemon.browserProcesses(tenant.id).compactMap(ProcessTree.identity(of:))
                return !seen.isEmpty
            })
            let first = try await running.value
            #expect(first.status == 200 && first.header("Warden-Browser-Start-Ms") != nil, "\(first.text)")
            #expect(try await Live.eventually(within: 30) { try await daemon.browserProcesses(tenant.id).isEmpty },
                    "the browser outlived its idle time")
            #expect(await Live.eventually(within: 20) { seen.allSatisfy { !ProcessTree.isAlive($0) } },
                    "still alive: \(seen.filter(ProcessTree.isAlive).map(\.pid))")
            #expect(try await daemon.workerPID(tenant.id) != nil, "the worker stays; only the browser stopped")
            let again = try await daemon.browser(token, "screenshot", ["html": "<p>two</p>"])
            #expect(again.status == 200 && again.header("Warden-Browser-Start-Ms") != nil)
        }
    }

    @Test func theBrowserGoesWithAWorkerKilledHard() async throws {
        try await withLiveDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("killed")
            #expect(try await daemon.browser(token, "pdf", ["html": "<p>alive</p>"]).status == 200)
            let browsers = try await daemon.browserProcesses(tenant.id)
            #expect(browsers.count >= 2)
            let worker = try #require(try await daemon.workerPID(tenant.id))
            kill(worker, SIGKILL)
            #expect(await Live.eventually(within: 30) { browsers.allSatisfy { !Live.isAlive($0) } },
                    "browser processes outlived kill -9 of their worker: \(browsers.filter(Live.isAlive))")
            // The next call gets a new worker and a new browser.
            let after = try await daemon.browser(token, "content", ["html": "<p>again</p>"])
            #expect(after.status == 200 && after.json?["text"] as? String == "again", "\(after.text)")
        }
    }

    /// JavaScript in a page reaches nothing but through the proxy: an allowed
    /// server through it (decided and counted), a port the policy keeps
    /// closed not at all, and the worker's own loopback not at all.
    @Test func pagesReachNothingButThroughTheProxy() async throws {
        let closed = try await TestWebServer.start()
        defer { Task { await closed.stop() } }
        try await withLocalServer { server, daemon in
            let (tenant, token) = try await daemon.tenantWithKey("hostile")
            let probe = """
                async () => {
                  const out = {};
                  const get = async (name, url) => {
                    try { const r = await fetch(url); out[name] = r.status + " " + (await r.text()).slice(0, 80); }
                    catch (e) { out[name] = "refused: " + e.message; }
                  };
                  await get("allowed", "http://127.0.0.1:\(server.port)/text/through");
                  await get("closed", "http://127.0.0.1:\(closed.port)/text/around");
                  await get("proxy", "http://127.0.0.1:3128/");
                  out.socket = await new Promise((resolve) => {
                    const ws = new WebSocket("ws://127.0.0.1:\(closed.port)/");
                    ws.onopen = () => resolve("open"); ws.onerror = () => resolve("refused");
                  });
                  return out;
                }
                """
            let page = "http://127.0.0.1:\(server.port)/text/page"
            let result = try await daemon.page(token, "evaluate", ["url": page, "function": probe])
            let found = try #require(result["result"] as? [String: String])
            // Same-origin fetch of the allowed server works, through the proxy.
            #expect(found["allowed"] == "200 hello through\n", "\(found)")
            // The closed port's refusal is the proxy's (a 403 in the API's shape, which the page may read).
            #expect(found["closed"]?.hasPrefix("refused") == true || found["closed"]?.hasPrefix("403") == true, "\(found)")
            #expect(found["proxy"]?.hasPrefix("200") != true, "\(found)")
            #expect(found["socket"] == "refused", "\(found)")
            #expect(closed.requests.isEmpty, "a server the policy keeps closed was reached: \(closed.requests.map(\.uri))")
            #expect(server.requests.contains { $0.uri == "/text/through" })
            let decisions = try await daemon.connectDecisions(tenant.id)
            #expect(decisions.contains { $0.decision == "deny" }, "the closed port was decided and refused")
        }
    }
}
