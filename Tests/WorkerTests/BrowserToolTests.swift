import Foundation
import Sandbox
import TestKit
import Testing
import WorkerProtocol

/// The browser tools against a real worker in a real tenant jail, driving a
/// real Chromium in its own nested jail.
@Suite(.serialized) struct BrowserToolTests {
    static let page = """
        <!doctype html><html><head><title>Colours</title>
        <style>body{margin:0;background:#ffffff} #red{position:absolute;left:0;top:0;width:100px;height:100px;background:#ff0000}
        #blue{position:absolute;left:200px;top:100px;width:100px;height:50px;background:#0000ff}
        #far{position:absolute;left:0;top:2000px;width:10px;height:10px;background:#00ff00}</style></head>
        <body><div id="red"></div><div id="blue"></div><p style="position:absolute;top:300px">Hello from the page</p>
        <div id="far"></div></body></html>
        """

    /// A call's body (its STDOUT frames) and result.
    static func call(_ harness: WorkerHarness, _ id: UInt32, _ tool: Tool, _ args: BrowserArgs,
                     timeout: Double = 90) throws -> (body: [UInt8], result: BrowserResult) {
        let frames = try harness.run(id, tool, args, timeout: timeout)
        let result = try harness.result(BrowserResult.self, frames)
        let body = frames.filter { $0.type == .stdout }.flatMap(\.payload)
        return (body, result)
    }

    static func failure(_ harness: WorkerHarness, _ id: UInt32, _ tool: Tool, _ args: BrowserArgs) throws -> ErrorReply {
        try harness.error(harness.run(id, tool, args, timeout: 90))
    }

    static func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    /// Chromium's processes in the worker's jail.
    static func browserProcesses(_ harness: WorkerHarness) -> [Int32] {
        guard let worker = harness.hostPID() else { return [] }
        return ProcessTree.browsers(under: worker)
    }

    static func eventually(_ seconds: Double = 20, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    @Test func screenshotShowsThePageAtTheRequestedSize() throws {
        let harness = try WorkerHarness.start(browser: WorkerHarness.browser())
        defer { harness.stop() }
        let (png, result) = try Self.call(harness, 1, .browserScreenshot,
                                          BrowserArgs(html: Self.page, viewport: BrowserViewport(width: 640, height: 480)))
        #expect(result.contentType == "image/png")
        #expect(result.bytes == png.count)
        let image = try PNGImage(png)
        #expect(image.width == 640 && image.height == 480)
        #expect(image.distinctColors > 3)
        let red = image.pixel(50, 50), blue = image.pixel(250, 125), white = image.pixel(500, 50)
        #expect(red.r == 255 && red.g == 0 && red.b == 0)
        #expect(blue.r == 0 && blue.g == 0 && blue.b == 255)
        #expect(white.r == 255 && white.g == 255 && white.b == 255)
        #expect(result.browserStartMs != nil)

        // The whole page, a clip, and twice the pixels.
        let full = try PNGImage(Self.call(harness, 2, .browserScreenshot,
                                          BrowserArgs(html: Self.page, viewport: BrowserViewport(width: 400, height: 300),
                                                      fullPage: true)).body)
        #expect(full.width == 400 && full.height == 2010)
        let green = full.pixel(5, 2005)
        #expect(green.r == 0 && green.g == 255 && green.b == 0)
        let clip = try PNGImage(Self.call(harness, 3, .browserScreenshot,
                                          BrowserArgs(html: Self.page, clip: BrowserClip(x: 200, y: 100, width: 50, height: 40))).body)
        #expect(clip.width == 50 && clip.height == 40)
        #expect(clip.distinctColors == 1 && clip.pixel(25, 20).b == 255)
        let (retina, second) = try Self.call(harness, 4, .browserScreenshot,
                                             BrowserArgs(html: Self.page, viewport: BrowserViewport(width: 300, height: 200, deviceScaleFactor: 2)))
        let sharp = try PNGImage(retina)
        #expect(sharp.width == 600 && sharp.height == 400)
        #expect(second.browserStartMs == nil, "the browser stays warm between calls")
    }

    @Test func pdfContentAndEvaluate() throws {
        let harness = try WorkerHarness.start(browser: WorkerHarness.browser())
        defer { harness.stop() }
        let (pdf, pdfResult) = try Self.call(harness, 1, .browserPDF, BrowserArgs(html: Self.page, paperFormat: "a4"))
        #expect(pdfResult.contentType == "application/pdf")
        #expect(Array(pdf.prefix(5)) == Array("%PDF-".utf8))
        #expect(String(decoding: pdf.suffix(8), as: UTF8.self).contains("%%EOF"))

        let (content, contentResult) = try Self.call(harness, 2, .browserContent, BrowserArgs(html: Self.page))
        #expect(contentResult.contentType == "application/json")
        let document = try Self.json(content)
        #expect(document["title"] as? String == "Colours")
        #expect((document["html"] as? String)?.hasPrefix("<!DOCTYPE html><html><head><title>Colours</title>") == true)
        #expect((document["text"] as? String)?.contains("Hello from the page") == true)

        let sum = try Self.json(Self.call(harness, 3, .browserEvaluate,
                                          BrowserArgs(html: Self.page, expression: "document.querySelectorAll('div').length + 0.5")).body)
        #expect(sum["result"] as? Double == 3.5 && sum["type"] as? String == "number")
        let object = try Self.json(Self.call(harness, 4, .browserEvaluate,
                                             BrowserArgs(html: Self.page,
                                                         function: "async (a, b) => ({ joined: a + b, title: document.title, list: [1, null, true] })",
                                                         arguments: [.string("x"), .string("y")])).body)
        let value = try #require(object["result"] as? [String: Any])
        #expect(value["joined"] as? String == "xy" && value["title"] as? String == "Colours")
        #expect((value["list"] as? [Any])?.count == 3)
        let special = try Self.json(Self.call(harness, 5, .browserEvaluate, BrowserArgs(html: "<p>x</p>", expression: "0/0")).body)
        #expect(special["unserializable"] as? String == "NaN")
        let nothing = try Self.json(Self.call(harness, 6, .browserEvaluate, BrowserArgs(html: "<p>x</p>", expression: "undefined")).body)
        #expect(nothing["type"] as? String == "undefined" && nothing["result"] is NSNull)

        let thrown = try Self.failure(harness, 7, .browserEvaluate,
                                      BrowserArgs(html: "<p>x</p>", expression: "(() => { throw new TypeError('no way') })()"))
        #expect(thrown.code == .evaluationFailed && thrown.message.contains("TypeError: no way"))
        let rejected = try Self.failure(harness, 8, .browserEvaluate,
                                        BrowserArgs(html: "<p>x</p>", function: "async () => { throw new Error('later') }"))
        #expect(rejected.code == .evaluationFailed && rejected.message.contains("later"))
    }

    @Test func waitsForSelectorsAndMilestones() throws {
        let harness = try WorkerHarness.start(browser: WorkerHarness.browser())
        defer { harness.stop() }
        let late = "<p>first</p><script>setTimeout(() => { const d = document.createElement('div'); d.id = 'late'; d.textContent = 'arrived'; document.body.appendChild(d) }, 300)</script>"
        let text = try Self.json(Self.call(harness, 1, .browserContent, BrowserArgs(html: late, waitForSelector: "#late")).body)
        #expect((text["text"] as? String)?.contains("arrived") == true)
        for (id, wait) in [(2, "domcontentloaded"), (3, "networkidle")] {
            let loaded = try Self.call(harness, UInt32(id), .browserContent, BrowserArgs(html: late, waitUntil: wait))
            #expect(loaded.result.bytes > 0, "wait_until \(wait)")
        }
        let navigated = try Self.json(Self.call(harness, 4, .browserContent,
                                                BrowserArgs(url: "data:text/html,<title>From a URL</title><p>data page</p>")).body)
        #expect(navigated["title"] as? String == "From a URL")

        let bad = try Self.failure(harness, 5, .browserContent, BrowserArgs(html: late, waitForSelector: "div[[["))
        #expect(bad.code == .invalidRequest && bad.message.contains("not a valid CSS selector"))
        let never = try Self.failure(harness, 6, .browserContent,
                                     BrowserArgs(html: late, waitForSelector: "#never", timeoutMs: 1500))
        #expect(never.code == .timeout && never.message.contains("#never"))
    }

    /// Messages of several MB from Chromium (a 5 MB value, a document's HTML
    /// and text), answers larger than one frame, and a document as large as
    /// a CALL can carry.
    @Test func largeAnswersCrossThePipeAndTheSocket() throws {
        let harness = try WorkerHarness.start(browser: WorkerHarness.browser())
        defer { harness.stop() }
        let paragraph = "<p>" + String(repeating: "lorem ipsum dolor sit amet ", count: 40) + "</p>"
        let html = "<title>Big</title>" + String(repeating: paragraph, count: 900)
        #expect(html.utf8.count > 950_000)
        let (body, result) = try Self.call(harness, 1, .browserContent, BrowserArgs(html: html))
        #expect(body.count > Frame.maxPayload, "the answer spans several frames")
        #expect(result.bytes == body.count)
        let document = try Self.json(body)
        #expect((document["html"] as? String)?.utf8.count ?? 0 > 950_000)
        #expect((document["text"] as? String)?.hasPrefix("lorem ipsum dolor sit amet") == true)
        let (big, _) = try Self.call(harness, 2, .browserEvaluate,
                                     BrowserArgs(html: "<p>x</p>", expression: "'y'.repeat(5 * 1024 * 1024)"))
        #expect(big.count > 5 * Frame.maxPayload)
        #expect((try Self.json(big)["result"] as? String)?.count == 5 * 1024 * 1024)
    }

    /// A page that never finishes loading ends the call with `timeout`; the
    /// stuck page is thrown away and the next call works.
    @Test func aPageThatNeverLoadsTimesOut() throws {
        let harness = try WorkerHarness.start(browser: WorkerHarness.browser())
        defer { harness.stop() }
        let started = Date()
        let stuck = try Self.failure(harness, 1, .browserScreenshot,
                                     BrowserArgs(html: "<p>busy</p><script>while (true) {}</script>", timeoutMs: 2000))
        #expect(stuck.code == .timeout && stuck.message.contains("timeout_ms 2000"))
        #expect(Date().timeIntervalSince(started) < 30)
        let next = try PNGImage(Self.call(harness, 2, .browserScreenshot, BrowserArgs(html: Self.page)).body)
        #expect(next.width == 1280 && next.pixel(50, 50).r == 255)
    }

    @Test func refusesWhatItCannotDo() throws {
        let harness = try WorkerHarness.start(browser: WorkerHarness.browser())
        defer { harness.stop() }
        let cases: [(Tool, BrowserArgs, ErrorCode, String)] = [
            (.browserContent, BrowserArgs(url: "file:///etc/passwd"), .invalidRequest, "http, https or data"),
            (.browserContent, BrowserArgs(url: "javascript:alert(1)"), .invalidRequest, "http, https or data"),
            (.browserContent, BrowserArgs(), .invalidRequest, "url or as html"),
            (.browserContent, BrowserArgs(url: "https://a.test", html: "<p>"), .invalidRequest, "not both"),
            (.browserContent, BrowserArgs(html: "<p>", waitUntil: "never"), .invalidRequest, "wait_until"),
            (.browserScreenshot, BrowserArgs(html: "<p>", viewport: BrowserViewport(width: 0, height: 10)), .invalidLimit, "viewport"),
            (.browserScreenshot, BrowserArgs(html: "<p>", fullPage: true, clip: BrowserClip(x: 0, y: 0, width: 1, height: 1)),
             .invalidRequest, "not both"),
            (.browserContent, BrowserArgs(html: "<p>", fullPage: true), .invalidRequest, "belong to browser.screenshot"),
            (.browserPDF, BrowserArgs(html: "<p>", paperFormat: "napkin"), .invalidRequest, "paper_format"),
            (.browserEvaluate, BrowserArgs(html: "<p>"), .invalidRequest, "expression or as function"),
            (.browserEvaluate, BrowserArgs(html: "<p>", timeoutMs: 0, expression: "1"), .invalidLimit, "timeout_ms"),
        ]
        for (index, (tool, args, code, words)) in cases.enumerated() {
            let error = try Self.failure(harness, UInt32(index + 1), tool, args)
            #expect(error.code == code && error.message.contains(words), "\(tool.rawValue) \(args): \(error)")
        }
        #expect(Self.browserProcesses(harness).isEmpty, "refused calls start no browser")
    }

    /// Without browser settings in HELLO the tools say so.
    @Test func aWorkerWithoutABrowserSaysSo() throws {
        let harness = try WorkerHarness.start()
        defer { harness.stop() }
        let error = try Self.failure(harness, 1, .browserContent, BrowserArgs(html: "<p>"))
        #expect(error.code == .browserUnavailable)
    }
}
