/// The page size a browser call renders at, in CSS pixels.
public struct BrowserViewport: Sendable, Codable, Equatable {
    public var width: Int
    public var height: Int
    /// Device pixels per CSS pixel (1 by default); a screenshot is width × scale pixels wide.
    public var deviceScaleFactor: Double?

    public init(width: Int, height: Int, deviceScaleFactor: Double? = nil) {
        self.width = width
        self.height = height
        self.deviceScaleFactor = deviceScaleFactor
    }

    public static let standard = BrowserViewport(width: 1280, height: 720)

    enum CodingKeys: String, CodingKey {
        case width, height
        case deviceScaleFactor = "device_scale_factor"
    }
}

/// A rectangle of the page to capture, in CSS pixels from the document's top left.
public struct BrowserClip: Sendable, Codable, Equatable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
}

/// The arguments of every `browser.*` tool: where the page comes from, when it
/// counts as loaded, and what the tool takes of it. Fields another tool uses
/// are refused by the supervisor before a call is sent.
public struct BrowserArgs: Sendable, Codable, Equatable {
    /// http(s), data: or about:blank. Exactly one of `url` and `html`.
    public var url: String?
    /// A document to load as it is (into about:blank), instead of a URL.
    public var html: String?
    /// load (the default), domcontentloaded or networkidle.
    public var waitUntil: String?
    /// Then wait until this CSS selector matches an element.
    public var waitForSelector: String?
    /// The whole call: loading, waiting and the tool's work.
    public var timeoutMs: Int?
    public var viewport: BrowserViewport?

    /// browser.screenshot: the whole scrollable page rather than the viewport.
    public var fullPage: Bool?
    public var clip: BrowserClip?

    /// browser.pdf
    public var landscape: Bool?
    public var printBackground: Bool?
    /// letter (the default), legal, tabloid, a3, a4, a5.
    public var paperFormat: String?

    /// browser.evaluate: a JavaScript expression, or a function called with `arguments`.
    public var expression: String?
    public var function: String?
    public var arguments: [JSONValue]?

    /// Set by the supervisor: it opened an egress session under the call's tag
    /// (`EgressTag.call`), so the call's page reaches the web through the proxy.
    public var network: Bool?

    public init(url: String? = nil, html: String? = nil, waitUntil: String? = nil, waitForSelector: String? = nil,
                timeoutMs: Int? = nil, viewport: BrowserViewport? = nil, fullPage: Bool? = nil, clip: BrowserClip? = nil,
                landscape: Bool? = nil, printBackground: Bool? = nil, paperFormat: String? = nil,
                expression: String? = nil, function: String? = nil, arguments: [JSONValue]? = nil,
                network: Bool? = nil) {
        self.url = url
        self.html = html
        self.waitUntil = waitUntil
        self.waitForSelector = waitForSelector
        self.timeoutMs = timeoutMs
        self.viewport = viewport
        self.fullPage = fullPage
        self.clip = clip
        self.landscape = landscape
        self.printBackground = printBackground
        self.paperFormat = paperFormat
        self.expression = expression
        self.function = function
        self.arguments = arguments
        self.network = network
    }

    enum CodingKeys: String, CodingKey {
        case url, html, viewport, clip, landscape, expression, function, arguments, network
        case waitUntil = "wait_until"
        case waitForSelector = "wait_for_selector"
        case timeoutMs = "timeout_ms"
        case fullPage = "full_page"
        case printBackground = "print_background"
        case paperFormat = "paper_format"
    }
}

/// The RESULT of a `browser.*` call. The body itself (JSON for content and
/// evaluate, PNG or PDF bytes) came before it in STDOUT frames.
public struct BrowserResult: Sendable, Codable, Equatable {
    /// The body's media type: application/json, image/png or application/pdf.
    public var contentType: String
    public var bytes: Int
    /// Where the page ended up (after redirects), and the main document's HTTP status.
    public var url: String?
    public var httpStatus: Int?
    public var wallMs: Int
    /// CPU the tenant's browser used during the call (calls that overlap share it).
    public var cpuMs: Int
    /// The browser's memory peak so far.
    public var memoryPeakBytes: Int?
    /// Set when this call started the browser: how long the start took.
    public var browserStartMs: Int?
    /// Of `wallMs`: getting the page (its context made ahead, or now), loading
    /// it (and waiting for the selector), and the tool's work on it.
    public var pageMs: Int?
    public var loadMs: Int?
    public var workMs: Int?

    public init(contentType: String, bytes: Int, url: String? = nil, httpStatus: Int? = nil, wallMs: Int = 0,
                cpuMs: Int = 0, memoryPeakBytes: Int? = nil, browserStartMs: Int? = nil, pageMs: Int? = nil,
                loadMs: Int? = nil, workMs: Int? = nil) {
        self.contentType = contentType
        self.bytes = bytes
        self.url = url
        self.httpStatus = httpStatus
        self.wallMs = wallMs
        self.cpuMs = cpuMs
        self.memoryPeakBytes = memoryPeakBytes
        self.browserStartMs = browserStartMs
        self.pageMs = pageMs
        self.loadMs = loadMs
        self.workMs = workMs
    }

    enum CodingKeys: String, CodingKey {
        case url, bytes
        case contentType = "content_type"
        case pageMs = "page_ms"
        case loadMs = "load_ms"
        case workMs = "work_ms"
        case httpStatus = "http_status"
        case wallMs = "wall_ms"
        case cpuMs = "cpu_ms"
        case memoryPeakBytes = "memory_peak_bytes"
        case browserStartMs = "browser_start_ms"
    }
}

/// What HELLO tells a worker about the tenant's browser. Absent: the browser
/// tools answer `browser_unavailable`.
public struct BrowserSettings: Sendable, Codable, Equatable {
    /// The Chromium binary, at the same path inside the jails as on the host.
    public var binary: String
    /// The OCI seccomp profile of the browser's jail (policies/seccomp/browser.json).
    public var profile: JSONValue
    /// The browser jail's memory (its share of the tenant's); nil = only the tenant's ceiling.
    public var memoryBytes: Int?
    /// Stop the browser after this long without a call.
    public var idleMs: Int

    /// The host's font cache, shown read-only to the tenant's and the browser's
    /// jails when present (without it every browser start rebuilds one).
    public static let fontCache = "/var/cache/fontconfig"

    public init(binary: String, profile: JSONValue, memoryBytes: Int? = nil, idleMs: Int = 60_000) {
        self.binary = binary
        self.profile = profile
        self.memoryBytes = memoryBytes
        self.idleMs = idleMs
    }

    enum CodingKeys: String, CodingKey {
        case binary, profile
        case memoryBytes = "memory_bytes"
        case idleMs = "idle_ms"
    }
}
