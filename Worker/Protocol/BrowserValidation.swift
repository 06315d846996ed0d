/// The rules of `BrowserArgs`, in one place for the supervisor (which refuses
/// bad input before a call is decided) and the worker (which never runs one).
public enum BrowserLimits {
    public static let defaultTimeoutMs = 30_000
    public static let maxTimeoutMs = 600_000
    public static let maxViewportSide = 8192
    public static let maxScale = 4.0
    /// The largest side of a screenshot in CSS pixels (full pages are cut there).
    public static let maxCaptureSide = 16_384.0
    public static let waitUntil = ["load": "load", "domcontentloaded": "DOMContentLoaded", "networkidle": "networkIdle"]
    /// Paper sizes in inches (width, height), portrait.
    public static let paper: [String: (Double, Double)] = [
        "letter": (8.5, 11), "legal": (8.5, 14), "tabloid": (11, 17),
        "a3": (11.69, 16.54), "a4": (8.27, 11.69), "a5": (5.83, 8.27),
    ]
    /// URL schemes a page may be loaded from: the web through the proxy, or
    /// content given inline. Never file: (the jail's files are not the caller's business).
    public static let schemes = ["http", "https", "data"]
}

extension BrowserArgs {
    /// Refuses what `tool` cannot do with these arguments: 400 for what is
    /// malformed, 422 (naming the field) for a value out of bounds.
    public func validate(for tool: Tool) throws(ErrorReply) {
        switch (url, html) {
        case (nil, nil): throw ErrorReply(.invalidRequest, "give the page as url or as html")
        case (.some, .some): throw ErrorReply(.invalidRequest, "give either url or html, not both")
        case (.some(let url), nil): try Self.checkURL(url)
        case (nil, .some): break
        }
        if let wait = waitUntil, BrowserLimits.waitUntil[wait] == nil {
            throw ErrorReply(.invalidRequest, "wait_until must be load, domcontentloaded or networkidle, not \"\(wait)\"")
        }
        if let selector = waitForSelector, selector.isEmpty || selector.utf8.count > 4096 {
            throw ErrorReply(.invalidRequest, "wait_for_selector must be a CSS selector of 1 to 4096 bytes")
        }
        if let timeout = timeoutMs, !(1...BrowserLimits.maxTimeoutMs).contains(timeout) {
            throw ErrorReply(.invalidLimit, "timeout_ms is \(timeout); it must lie between 1 and \(BrowserLimits.maxTimeoutMs) ms",
                             field: "timeout_ms")
        }
        if let viewport { try Self.check(viewport) }
        try checkToolFields(tool)
    }

    private func checkToolFields(_ tool: Tool) throws(ErrorReply) {
        let screenshot = fullPage != nil || clip != nil
        let pdf = landscape != nil || printBackground != nil || paperFormat != nil
        let evaluate = expression != nil || function != nil || arguments != nil
        for (used, owner, names) in [(screenshot, Tool.browserScreenshot, "full_page and clip"),
                                     (pdf, Tool.browserPDF, "landscape, print_background and paper_format"),
                                     (evaluate, Tool.browserEvaluate, "expression, function and arguments")]
        where used && tool != owner {
            throw ErrorReply(.invalidRequest, "\(names) belong to \(owner.rawValue), not \(tool.rawValue)")
        }
        switch tool {
        case .browserScreenshot:
            if fullPage == true, clip != nil { throw ErrorReply(.invalidRequest, "give full_page or clip, not both") }
            if let clip {
                guard clip.x >= 0, clip.y >= 0, clip.width >= 1, clip.height >= 1,
                      clip.x + clip.width <= BrowserLimits.maxCaptureSide, clip.y + clip.height <= BrowserLimits.maxCaptureSide else {
                    throw ErrorReply(.invalidLimit, "clip must lie within 0…\(Int(BrowserLimits.maxCaptureSide)) CSS pixels with width and height of at least 1",
                                     field: "clip")
                }
            }
        case .browserPDF:
            if let format = paperFormat, BrowserLimits.paper[format] == nil {
                let known = BrowserLimits.paper.keys.sorted().joined(separator: ", ")
                throw ErrorReply(.invalidRequest, "paper_format must be one of \(known), not \"\(format)\"")
            }
        case .browserEvaluate:
            switch (expression, function) {
            case (nil, nil): throw ErrorReply(.invalidRequest, "give the JavaScript as expression or as function")
            case (.some, .some): throw ErrorReply(.invalidRequest, "give either expression or function, not both")
            case (.some, nil) where arguments != nil:
                throw ErrorReply(.invalidRequest, "arguments go with function, not with expression")
            default: break
            }
        default:
            break
        }
    }

    private static func checkURL(_ url: String) throws(ErrorReply) {
        if url == "about:blank" { return }
        let scheme = url.split(separator: ":", maxSplits: 1).first.map { $0.lowercased() } ?? ""
        guard url.contains(":"), BrowserLimits.schemes.contains(scheme) else {
            throw ErrorReply(.invalidRequest, "url must be an http, https or data: URL (or about:blank), not \"\(url.prefix(100))\"")
        }
        if scheme != "data", !url.dropFirst(scheme.count).hasPrefix("://") || url.utf8.count <= scheme.count + 3 {
            throw ErrorReply(.invalidRequest, "url \"\(url.prefix(100))\" has no host")
        }
        if url.utf8.count > 2 << 20 { throw ErrorReply(.invalidRequest, "url is longer than 2 MiB") }
    }

    private static func check(_ viewport: BrowserViewport) throws(ErrorReply) {
        let side = 1...BrowserLimits.maxViewportSide
        guard side.contains(viewport.width), side.contains(viewport.height) else {
            throw ErrorReply(.invalidLimit, "viewport is \(viewport.width)×\(viewport.height); each side must lie between 1 and \(BrowserLimits.maxViewportSide)",
                             field: "viewport")
        }
        if let scale = viewport.deviceScaleFactor, !(scale > 0 && scale <= BrowserLimits.maxScale) {
            throw ErrorReply(.invalidLimit, "viewport.device_scale_factor must lie above 0 and at most \(BrowserLimits.maxScale)",
                             field: "viewport.device_scale_factor")
        }
    }
}
