import Foundation
import PNGDecoding
import Testing
import WorkerProtocol

/// The browser tools against a real worker in a real tenant jail, driving a
/// real Chromium in its own nested jail.
@Suite(.serialized) struct BrowserToolTests {
    static let page = """
        <!doctype html><html><head><title>Colours</title>
        <style>body{margin:0;background:#ffffff} #red{position:absolute;left:0;top:0;width:100px;height:100px;background:#ff0000}
        #blue{position:absolute;left:200px;top:100px;width:100px;height:50px;background:#0000ff}</style></head>
        <body><div id="red"></div><div id="blue"></div><p style="position:absolute;top:300px">Hello from the page</p></body></html>
        """

    /// A call's body (its STDOUT frames) and result.
    static func call(_ harness: WorkerHarness, _ id: UInt32, _ tool: Tool, _ args: BrowserArgs,
                     timeout: Double = 90) throws -> (body: [UInt8], result: BrowserResult) {
        let frames = try harness.run(id, tool, args, timeout: timeout)
        let result = try harness.result(BrowserResult.self, frames)
        let body = frames.filter { $0.type == .stdout }.flatMap(\.payload)
        return (body, result)
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
    }
}
