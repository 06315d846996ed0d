import Foundation
import TestKit
import Testing
import WorkerProtocol

/// The tenant's warm browser: stopped when idle, gone with its worker,
/// started again after a crash. (Its memory limit is tested with a real
/// supervisor, which gives the worker the tenant's cgroup.)
@Suite(.serialized) struct BrowserLifecycleTests {
    typealias Tools = BrowserToolTests

    @Test func anIdleBrowserStopsAndStartsAgainOnTheNextCall() throws {
        let harness = try WorkerHarness.start(browser: WorkerHarness.browser(idleMs: 1500))
        defer { harness.stop() }
        // A call in progress keeps the browser, however long it takes.
        try harness.call(1, .browserEvaluate, BrowserArgs(html: "<p>one</p>",
                                                          expression: "new Promise((r) => setTimeout(() => r(1), 3000))"))
        var seen: [ProcessTree.Identity] = []
        #expect(Tools.eventually(60) {
            seen = Tools.browserProcesses(harness).compactMap(ProcessTree.identity(of:))
            return !seen.isEmpty
        })
        let first = try harness.result(BrowserResult.self, harness.waitEnd(callID: 1))
        #expect(first.browserStartMs != nil)
        #expect(Tools.eventually { Tools.browserProcesses(harness).isEmpty }, "the browser's processes outlived its idle time")
        #expect(Tools.eventually { seen.allSatisfy { !ProcessTree.isAlive($0) } },
                "still alive: \(seen.filter(ProcessTree.isAlive).map { "\($0.pid) \(ProcessTree.commandLine($0.pid).prefix(120))" })")
        let second = try Tools.call(harness, 2, .browserContent, BrowserArgs(html: "<p>two</p>"))
        #expect(second.result.browserStartMs != nil, "the next call starts a new browser")
        #expect(try Tools.json(second.body)["text"] as? String == "two")
    }

    @Test func theBrowserDiesWithItsWorker() throws {
        let harness = try WorkerHarness.start(browser: WorkerHarness.browser())
        defer { harness.stop() }
        _ = try Tools.call(harness, 1, .browserScreenshot, BrowserArgs(html: "<p>alive</p>"))
        let browsers = Tools.browserProcesses(harness)
        #expect(browsers.count >= 2, "a browser and at least one renderer: \(browsers)")
        let worker = try #require(harness.hostPID())
        kill(worker, SIGKILL)
        #expect(Tools.eventually { browsers.allSatisfy { !ProcessTree.isAlive($0) } },
                "browser processes outlived kill -9 of the worker: \(browsers.filter(ProcessTree.isAlive))")
    }

    /// A browser killed between calls, and a renderer killed during one: the
    /// call that meets it gets `browser_crashed`, the next one works.
    @Test func aCrashedBrowserStartsAgain() throws {
        let harness = try WorkerHarness.start(browser: WorkerHarness.browser())
        defer { harness.stop() }
        _ = try Tools.call(harness, 1, .browserContent, BrowserArgs(html: "<p>one</p>"))
        // The browser itself is the root of its tree: a renderer just forked
        // still carries the browser's command line until it execs.
        let tree = Tools.browserProcesses(harness)
        let main = try #require(tree.first { pid in
            !ProcessTree.commandLine(pid).contains("--type=") && !tree.contains(ProcessTree.parent(of: pid) ?? -1)
        })
        kill(main, SIGKILL)
        let again = try Tools.call(harness, 2, .browserContent, BrowserArgs(html: "<p>two</p>"))
        #expect(again.result.browserStartMs != nil)

        // A renderer killed while the call runs on its page: the one the page's endless loop keeps busy.
        try harness.call(3, .browserEvaluate, BrowserArgs(html: "<p>three</p>", expression: "(() => { for (;;) {} })()"))
        var busy: Int32?
        #expect(Tools.eventually {
            busy = Tools.browserProcesses(harness).first { pid in
                ProcessTree.commandLine(pid).contains("--type=renderer") && ProcessTree.cpuMilliseconds(pid, over: 300) > 150
            }
            return busy != nil
        }, "no renderer ran the page's loop")
        if let busy { kill(busy, SIGKILL) }
        let crashed = try harness.error(harness.waitEnd(callID: 3, timeout: 60))
        #expect(crashed.code == .browserCrashed, "\(crashed)")
        #expect(crashed.message.contains("renderer crashed"))
        let after = try Tools.call(harness, 4, .browserContent, BrowserArgs(html: "<p>four</p>"))
        #expect(after.result.browserStartMs != nil, "a crash restarts the browser")
        #expect(try Tools.json(after.body)["text"] as? String == "four")
    }
}
