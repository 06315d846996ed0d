import FoundationEssentials
import Sandbox
import WorkerProtocol

/// One call's work on its page, against the call's deadline: load, wait,
/// then what the tool takes of the page, as the body of the answer.
struct PageWork {
    let page: BrowserPage
    let args: BrowserArgs
    let timeoutMs: Int
    let deadlineMs: Int64
    let cancellation: JailCancellation

    private func failed(_ failure: CDPFailure, _ doing: String) -> ErrorReply {
        BrowserErrors.reply(failure, while: doing, timeoutMs: timeoutMs)
    }

    // MARK: loading

    func load() throws(ErrorReply) -> BrowserPage.Loaded {
        let wait = args.waitUntil ?? "load"
        let milestone = BrowserLimits.waitUntil[wait] ?? "load"
        let loaded: BrowserPage.Loaded
        if let html = args.html {
            do {
                loaded = try page.setContent(html, until: milestone, deadlineMs: deadlineMs, cancellation: cancellation)
            } catch {
                throw failed(error, "loading the html (waiting for \(wait))")
            }
        } else {
            let url = args.url ?? "about:blank"
            do {
                loaded = try page.navigate(to: url, until: milestone, deadlineMs: deadlineMs, cancellation: cancellation)
            } catch {
                switch error {
                case .navigation(let text): throw BrowserErrors.navigation(text, url: url)
                case .cdp(let failure): throw failed(failure, "loading \(url.prefix(200)) (waiting for \(wait))")
                }
            }
            if let refused = BrowserErrors.proxyAnswer(loaded.headers, url: url) { throw refused }
        }
        if let selector = args.waitForSelector {
            let outcome: CDP.Evaluated
            do {
                outcome = try page.waitForSelector(selector, deadlineMs: deadlineMs, cancellation: cancellation)
            } catch {
                throw failed(error, "waiting for the selector \(selector)")
            }
            if let exception = outcome.exceptionDetails {
                throw ErrorReply(.invalidRequest, "wait_for_selector \"\(selector)\" is not a valid CSS selector: \(exception.message)")
            }
        }
        return loaded
    }

    // MARK: the tools

    func produce(_ tool: Tool, loaded: BrowserPage.Loaded) throws(ErrorReply) -> (contentType: String, bytes: [UInt8]) {
        switch tool {
        case .browserContent: return ("application/json", try content(loaded))
        case .browserScreenshot: return ("image/png", try screenshot())
        case .browserPDF: return ("application/pdf", try pdf())
        case .browserEvaluate: return ("application/json", try evaluate())
        default: throw ErrorReply(.invalidRequest, "\(tool.rawValue) is not a browser tool")
        }
    }

    /// The document as HTML (doctype included) and as the text a reader sees.
    private func content(_ loaded: BrowserPage.Loaded) throws(ErrorReply) -> [UInt8] {
        let script = """
            ({
              url: location.href,
              title: document.title,
              html: (document.doctype ? new XMLSerializer().serializeToString(document.doctype) : "")
                    + (document.documentElement ? document.documentElement.outerHTML : ""),
              text: document.body ? document.body.innerText : ""
            })
            """
        let value = try value(of: script, "reading the page's content")
        guard case .object(var fields) = value else {
            throw ErrorReply(.internal, "reading the page's content gave no object")
        }
        fields["http_status"] = loaded.httpStatus.map { .integer(Int64($0)) } ?? .null
        return try json(JSONValue.object(fields))
    }

    private func screenshot() throws(ErrorReply) -> [UInt8] {
        var clip: CDP.Clip?
        if let given = args.clip {
            clip = CDP.Clip(x: given.x, y: given.y, width: given.width, height: given.height)
        } else if args.fullPage == true {
            let size: CDP.Rect
            do { size = try page.layout(deadlineMs: deadlineMs, cancellation: cancellation) } catch {
                throw failed(error, "measuring the page")
            }
            let side = BrowserLimits.maxCaptureSide
            clip = CDP.Clip(x: 0, y: 0, width: min(side, max(1, size.width.rounded(.up))),
                            height: min(side, max(1, size.height.rounded(.up))))
        }
        let data: String
        do { data = try page.screenshot(clip: clip, deadlineMs: deadlineMs, cancellation: cancellation) } catch {
            throw failed(error, "taking the screenshot")
        }
        return try decoded(data, "screenshot")
    }

    private func pdf() throws(ErrorReply) -> [UInt8] {
        let (width, height) = BrowserLimits.paper[args.paperFormat ?? "letter"] ?? (8.5, 11)
        let options = CDP.PrintToPDF(landscape: args.landscape ?? false, printBackground: args.printBackground ?? false,
                                     paperWidth: width, paperHeight: height)
        let data: String
        do { data = try page.pdf(options, deadlineMs: deadlineMs, cancellation: cancellation) } catch {
            throw failed(error, "printing the PDF")
        }
        return try decoded(data, "PDF")
    }

    /// `{"result": value, "type": "number"}`: the JSON value of the expression or
    /// of the function's return (promises awaited).
    private func evaluate() throws(ErrorReply) -> [UInt8] {
        var script = args.expression ?? ""
        if let function = args.function {
            let arguments = (try? WireJSON.encode(args.arguments ?? [])).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
            script = "(\(function)).apply(null, \(arguments))"
        }
        let outcome = try evaluated(script, "evaluating the JavaScript")
        var body: [String: JSONValue] = ["result": outcome.result.value ?? .null, "type": .string(outcome.result.type)]
        if let special = outcome.result.unserializableValue { body["unserializable"] = .string(special) }
        return try json(JSONValue.object(body))
    }

    // MARK: helpers

    private func evaluated(_ script: String, _ doing: String) throws(ErrorReply) -> CDP.Evaluated {
        let outcome: CDP.Evaluated
        do { outcome = try page.evaluate(script, deadlineMs: deadlineMs, cancellation: cancellation) } catch {
            if case .remote(_, let message) = error {
                throw ErrorReply(.evaluationFailed, "the result could not be returned as JSON: \(message)")
            }
            throw failed(error, doing)
        }
        if let exception = outcome.exceptionDetails {
            throw ErrorReply(.evaluationFailed, "the JavaScript threw: \(exception.message)")
        }
        return outcome
    }

    private func value(of script: String, _ doing: String) throws(ErrorReply) -> JSONValue {
        try evaluated(script, doing).result.value ?? .null
    }

    private func decoded(_ base64: String, _ what: String) throws(ErrorReply) -> [UInt8] {
        guard let data = Data(base64Encoded: base64) else {
            throw ErrorReply(.internal, "Chromium's \(what) is not valid base64")
        }
        return [UInt8](data)
    }

    private func json(_ value: JSONValue) throws(ErrorReply) -> [UInt8] {
        do { return try WireJSON.encode(value) } catch {
            throw ErrorReply(.internal, "the result could not be encoded: \(error)")
        }
    }
}
