import FoundationEssentials
import Sandbox
import WorkerProtocol

/// One call's page: a browser context of its own (cookies, storage and cache
/// that no other call sees) with one tab, attached over a flattened session.
/// It is made before it is needed (a spare) and disposed after its call.
final class BrowserPage: Sendable {
    let contextID: String
    let targetID: String
    let session: String
    let viewport: BrowserViewport
    let connection: CDPConnection
    /// The context's way to the egress proxy; nil when the browser has no network.
    let proxy: PageProxy?

    /// The events a page waits for; everything else is dropped as it arrives.
    static let keepsEvent: CDPConnection.EventFilter = { method, message in
        switch method {
        case "Page.lifecycleEvent": return true
        // Only the documents' responses: a page's hundreds of images would push them out.
        case "Network.responseReceived": return message.containsASCII(#""type":"Document""#)
        default: return false
        }
    }

    private init(contextID: String, targetID: String, session: String, viewport: BrowserViewport,
                 connection: CDPConnection, proxy: PageProxy?) {
        self.contextID = contextID
        self.targetID = targetID
        self.session = session
        self.viewport = viewport
        self.connection = connection
        self.proxy = proxy
    }

    /// A new context with an about:blank tab, ready to load a page; with a
    /// proxy, every request of the context goes to it.
    static func open(on connection: CDPConnection, viewport: BrowserViewport, proxy: PageProxy?,
                     deadlineMs: Int64) throws(CDPFailure) -> BrowserPage {
        let settings = CDP.CreateContext(proxyServer: proxy?.server, proxyBypassList: proxy.map { _ in "<-loopback>" })
        let context = try connection.call("Target.createBrowserContext", settings, as: CDP.BrowserContext.self,
                                          deadlineMs: deadlineMs).browserContextId
        do {
            let target = try connection.call("Target.createTarget", CDP.CreateTarget(url: "about:blank", browserContextId: context),
                                             as: CDP.Target.self, deadlineMs: deadlineMs).targetId
            let session = try connection.call("Target.attachToTarget", CDP.Attach(targetId: target), as: CDP.Session.self,
                                              deadlineMs: deadlineMs).sessionId
            connection.register(session: session)
            let page = BrowserPage(contextID: context, targetID: target, session: session, viewport: viewport,
                                   connection: connection, proxy: proxy)
            // Inspector sends targetCrashed, which fails the page's waiting commands at once.
            try connection.call("Inspector.enable", NoParams(), session: session, deadlineMs: deadlineMs)
            try connection.call("Page.enable", NoParams(), session: session, deadlineMs: deadlineMs)
            try connection.call("Page.setLifecycleEventsEnabled", CDP.Enabled(enabled: true), session: session, deadlineMs: deadlineMs)
            try connection.call("Network.enable", NoParams(), session: session, deadlineMs: deadlineMs)
            try page.apply(viewport, deadlineMs: deadlineMs)
            return page
        } catch {
            connection.post("Target.disposeBrowserContext", CDP.BrowserContext(browserContextId: context))
            throw error
        }
    }

    func apply(_ viewport: BrowserViewport, deadlineMs: Int64, cancellation: JailCancellation? = nil) throws(CDPFailure) {
        try connection.call("Emulation.setDeviceMetricsOverride",
                            CDP.DeviceMetrics(width: viewport.width, height: viewport.height,
                                              deviceScaleFactor: viewport.deviceScaleFactor ?? 1),
                            session: session, deadlineMs: deadlineMs, cancellation: cancellation)
    }

    /// Closes the context and everything in it (its renderer too).
    func dispose(deadlineMs: Int64) throws(CDPFailure) {
        defer { connection.forget(session: session) }
        try connection.call("Target.disposeBrowserContext", CDP.BrowserContext(browserContextId: contextID),
                            deadlineMs: deadlineMs)
    }

    // MARK: loading

    /// Where the page ended up.
    struct Loaded {
        var url: String?
        var httpStatus: Int?
        var headers: [String: String]
    }

    enum LoadFailure: Error {
        case cdp(CDPFailure)
        /// Chromium's net error (`net::ERR_CONNECTION_REFUSED`).
        case navigation(String)
    }

    /// Navigates to `url` and waits for the lifecycle event `milestone`
    /// (load, DOMContentLoaded or networkIdle) of that navigation.
    func navigate(to url: String, until milestone: String, deadlineMs: Int64,
                  cancellation: JailCancellation) throws(LoadFailure) -> Loaded {
        do {
            let mark = connection.sequence
            let navigated = try connection.call("Page.navigate", CDP.Navigate(url: url), session: session,
                                                as: CDP.Navigated.self, deadlineMs: deadlineMs, cancellation: cancellation)
            if let error = navigated.errorText, !error.isEmpty { throw LoadFailure.navigation(error) }
            // No loader: a navigation within the document (a #fragment), which is done at once.
            guard let loader = navigated.loaderId else { return Loaded(url: url, httpStatus: nil, headers: [:]) }
            _ = try connection.waitForEvent(session: session, after: mark, deadlineMs: deadlineMs, cancellation: cancellation) {
                guard $0.method == "Page.lifecycleEvent", let event = $0.params(CDP.LifecycleEvent.self) else { return false }
                return event.name == milestone && event.frameId == targetID && event.loaderId == loader
            }
            let response = document(loader: loader, after: mark)
            return Loaded(url: response?.url ?? url, httpStatus: response?.status, headers: response?.headers ?? [:])
        } catch let failure as LoadFailure {
            throw failure
        } catch {
            throw LoadFailure.cdp(error as? CDPFailure ?? .malformed("\(error)"))
        }
    }

    /// Replaces the about:blank document with `html` and waits for `milestone`.
    func setContent(_ html: String, until milestone: String, deadlineMs: Int64,
                    cancellation: JailCancellation) throws(CDPFailure) -> Loaded {
        let mark = connection.sequence
        try connection.call("Page.setDocumentContent", CDP.DocumentContent(frameId: targetID, html: html),
                            session: session, deadlineMs: deadlineMs, cancellation: cancellation)
        _ = try connection.waitForEvent(session: session, after: mark, deadlineMs: deadlineMs, cancellation: cancellation) {
            guard $0.method == "Page.lifecycleEvent", let event = $0.params(CDP.LifecycleEvent.self) else { return false }
            return event.name == milestone && event.frameId == targetID
        }
        return Loaded(url: "about:blank", httpStatus: nil, headers: [:])
    }

    /// The main document's response of the navigation `loader`, when it had one.
    private func document(loader: String, after mark: Int) -> CDP.Response? {
        let event = try? connection.waitForEvent(session: session, after: mark, deadlineMs: 0) {
            guard $0.method == "Network.responseReceived", let r = $0.params(CDP.ResponseReceived.self) else { return false }
            return r.requestId == loader
        }
        return event?.params(CDP.ResponseReceived.self)?.response
    }

    // MARK: the page's JavaScript

    /// Evaluates `expression` (awaiting a promise) and returns its value.
    func evaluate(_ expression: String, deadlineMs: Int64, cancellation: JailCancellation) throws(CDPFailure) -> CDP.Evaluated {
        try connection.call("Runtime.evaluate", CDP.Evaluate(expression: expression), session: session,
                            as: CDP.Evaluated.self, deadlineMs: deadlineMs, cancellation: cancellation)
    }

    /// Returns once `selector` matches an element: checked now, then after every change of the DOM.
    func waitForSelector(_ selector: String, deadlineMs: Int64, cancellation: JailCancellation) throws(CDPFailure) -> CDP.Evaluated {
        let script = """
            new Promise((resolve) => {
              const selector = \(CDPJSON.literal(selector));
              const found = () => document.querySelector(selector) !== null;
              if (found()) return resolve(true);
              const observer = new MutationObserver(() => { if (found()) { observer.disconnect(); resolve(true); } });
              observer.observe(document, { childList: true, subtree: true, attributes: true });
            })
            """
        return try evaluate(script, deadlineMs: deadlineMs, cancellation: cancellation)
    }

    // MARK: capture

    func layout(deadlineMs: Int64, cancellation: JailCancellation) throws(CDPFailure) -> CDP.Rect {
        try connection.call("Page.getLayoutMetrics", NoParams(), session: session, as: CDP.LayoutMetrics.self,
                            deadlineMs: deadlineMs, cancellation: cancellation).cssContentSize
    }

    func screenshot(clip: CDP.Clip?, deadlineMs: Int64, cancellation: JailCancellation) throws(CDPFailure) -> String {
        try connection.call("Page.captureScreenshot", CDP.Screenshot(clip: clip, captureBeyondViewport: clip.map { _ in true }),
                            session: session, as: CDP.Encoded.self, deadlineMs: deadlineMs, cancellation: cancellation).data
    }

    func pdf(_ options: CDP.PrintToPDF, deadlineMs: Int64, cancellation: JailCancellation) throws(CDPFailure) -> String {
        try connection.call("Page.printToPDF", options, session: session, as: CDP.Encoded.self, deadlineMs: deadlineMs,
                            cancellation: cancellation).data
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs in these bytes (a cheap look before decoding).
    func containsASCII(_ needle: String) -> Bool {
        let pattern = Array(needle.utf8)
        guard let first = pattern.first, count >= pattern.count else { return false }
        var i = 0
        while i <= count - pattern.count {
            if self[i] == first && self[i..<(i + pattern.count)].elementsEqual(pattern) { return true }
            i += 1
        }
        return false
    }
}
