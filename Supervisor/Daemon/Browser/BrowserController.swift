import Foundation
import Hummingbird
import NIOCore
import Policy
import Store
import WorkerProtocol

/// `POST /v1/browser/{content,screenshot,pdf,evaluate}`, in the style of
/// Browserless: a page loaded in a fresh context of the tenant's warm
/// browser (its own cookies, storage and cache), reaching the web only
/// through the egress proxy, each call decided, metered as one browser
/// session, and audited.
struct BrowserController {
    let call: WorkerCall
    let pipeline: CallPipeline
    /// Every call's page reaches the web through it; nil: pages have no network.
    let egress: EgressProxy?
    /// The server's ceiling of timeout_ms (the plan's call.timeout_ms may lower it).
    let maxTimeoutMs: Int
    /// False when the host has no browser: calls answer 503.
    let available: Bool

    /// How much longer than the call's own timeout the supervisor waits for
    /// the worker: a cold browser start is not counted in timeout_ms.
    static let startAllowance = Duration.seconds(45)

    func handle(_ tool: Tool, _ request: Request, context: APIRequestContext) async throws -> Response {
        guard let tenant = context.authentication?.tenant else { throw APIError.unauthenticated("missing API key") }
        guard available else {
            throw APIError.unavailable(code: ErrorCode.browserUnavailable.rawValue,
                                       "this server has no browser (browser.enabled, browser.binary); install chromium-headless-shell")
        }
        var args = try await JSONBody.decode(BrowserArgs.self, from: request, context: context)
        let plan = try await pipeline.meter.limits(for: tenant)
        let ceiling = min(maxTimeoutMs, plan.ceiling(Metric.callTimeoutMs) ?? .max)
        try Self.validate(&args, tool: tool, ceiling: ceiling)
        args.network = egress != nil
        let requestID = context.requestID
        let deadline = Duration.milliseconds(args.timeoutMs ?? BrowserLimits.defaultTimeoutMs) + Self.startAllowance
        let binary = tool == .browserScreenshot || tool == .browserPDF
        let start = try await pipeline.start(tenant: tenant, tool: tool.rawValue, args: Self.policyArgs(args),
                                             limits: plan, requestID: requestID,
                                             idempotencyKey: request.headers[ExecController.idempotencyKey],
                                             egress: egress != nil) {
            try DeferredCall(tool, args, output: binary ? .bytes : .streamedJSON, deadline: deadline)
        }
        let ticket: Meter.Ticket
        switch start {
        case .answered(let response): return response
        case .run(let reserved): ticket = reserved
        }
        let session = egress?.session(tenant: tenant, via: "browser", requestID: requestID)
        let answer = BrowserAnswer(requestID: requestID,
                                   asJSON: binary && Self.wantsJSON(request.headers[.accept], binaryType: tool))
        let call = self.call
        var response = try await pipeline.meter.finish(ticket) {
            var body: [UInt8] = []
            do {
                let payload = try await call.run(tool, args, tenant: tenant, requestID: requestID, deadline: deadline,
                                                 client: context.channel, egress: session) { event in
                    if case .stdout(let chunk) = event { body += chunk }
                }
                return try answer.success(payload, body: body, egressBytes: session?.bytes ?? 0)
            } catch let error as APIError {
                // The bytes the page moved count even when the call failed.
                let failure = Self.proxyRefusal(error, session: session) ?? error
                return (try failure.response(from: request, context: context),
                        Meter.Outcome(status: failure.code, httpStatus: Int(failure.status.code),
                                      ran: !Meter.neverStarted.contains(failure.code),
                                      figures: CallFigures(egressBytes: session?.bytes ?? 0)))
            }
        }
        response.headers.append(contentsOf: CallPipeline.warningHeaders(ticket))
        return response
    }

    /// The worker's rules, with the server's and the plan's ceiling on timeout_ms.
    static func validate(_ args: inout BrowserArgs, tool: Tool, ceiling: Int) throws {
        do throws(ErrorReply) {
            try args.validate(for: tool)
        } catch {
            throw error.code == .invalidLimit ? APIError.invalidField(error.message) : APIError.invalidRequest(error.message)
        }
        // The call goes to the worker in one frame: a document larger than that is served from a URL.
        let size = (try? WireJSON.encode(args).count) ?? 0
        if size > Frame.maxPayload - 4096 {
            throw APIError(.contentTooLarge, code: "body_too_large",
                           message: "the call's arguments take \(size) bytes as JSON; a browser call takes at most \(Frame.maxPayload - 4096) (serve a larger page from a URL)")
        }
        if let timeout = args.timeoutMs, timeout > ceiling {
            throw APIError.invalidField("timeout_ms must be between 1 and \(ceiling) ms, got \(timeout)")
        }
        args.timeoutMs = args.timeoutMs ?? min(BrowserLimits.defaultTimeoutMs, ceiling)
    }

    /// A page the proxy would not fetch: the proxy's own refusal (the policy's
    /// messages, a quota, an unreachable host), which the page could not see.
    static func proxyRefusal(_ error: APIError, session: EgressSession?) -> APIError? {
        guard error.code == ErrorCode.egressDenied.rawValue else { return nil }
        if let refusal = session?.refusal { return refusal }
        // Nothing was refused for the policy: the origin did not take the connection.
        return APIError(.badGateway, code: ErrorCode.navigationFailed.rawValue,
                        message: error.message + " (the origin could not be reached)")
    }

    /// `Accept: application/json` (and not the binary's own type) asks for JSON with base64.
    static func wantsJSON(_ accept: String?, binaryType tool: Tool) -> Bool {
        guard let accept = accept?.lowercased() else { return false }
        let own = tool == .browserPDF ? "application/pdf" : "image/png"
        return accept.contains("application/json") && !accept.contains(own)
    }

    /// What the policy sees of a browser call: where the page comes from, how
    /// long it may take, and the JavaScript it would run.
    static func policyArgs(_ a: BrowserArgs) -> [String: Value] {
        var out: [String: Value] = ["timeout_ms": Value(a.timeoutMs ?? BrowserLimits.defaultTimeoutMs),
                                    "wait_until": .string(a.waitUntil ?? "load")]
        if let url = a.url {
            out["url"] = .string(url)
            out["network"] = .bool(url.lowercased().hasPrefix("http://") || url.lowercased().hasPrefix("https://"))
        } else {
            out["network"] = .bool(false)
        }
        if let html = a.html { out["html_bytes"] = Value(html.utf8.count) }
        if let selector = a.waitForSelector { out["wait_for_selector"] = .string(selector) }
        if let viewport = a.viewport {
            out["viewport"] = .object(RegoObject(["width": Value(viewport.width), "height": Value(viewport.height)]))
        }
        if let expression = a.expression { out["expression"] = .string(expression) }
        if let function = a.function { out["function"] = .string(function) }
        if let fullPage = a.fullPage { out["full_page"] = .bool(fullPage) }
        return out
    }
}

/// The answer to a browser call that worked: its body as the worker made it
/// (JSON with the request id added, or the PNG/PDF bytes; those as JSON with
/// base64 when the client asked), and the ledger's view of it.
struct BrowserAnswer: Sendable {
    let requestID: String
    let asJSON: Bool

    static let startHeader = HTTPFields.Element.Name("Warden-Browser-Start-Ms")!
    static let statusHeader = HTTPFields.Element.Name("Warden-Page-Status")!
    static let timingHeader = HTTPFields.Element.Name("Server-Timing")!

    func success(_ payload: [UInt8], body: [UInt8], egressBytes: Int64) throws -> (Response, Meter.Outcome) {
        let result: BrowserResult
        do { result = try JSONDecoder().decode(BrowserResult.self, from: Data(payload)) } catch {
            throw APIError(.internalServerError, code: "internal", message: "the worker's browser result is unreadable: \(error)")
        }
        // The worker's own time for the page, and its parts (the rest of the answer's time is the API's).
        let parts = [("page", result.pageMs), ("load", result.loadMs), ("work", result.workMs)]
            .compactMap { name, ms in ms.map { "\(name);dur=\($0)" } }
        var headers: HTTPFields = [Self.timingHeader: (["browser;dur=\(result.wallMs)"] + parts).joined(separator: ", ")]
        if let ms = result.browserStartMs { headers[Self.startHeader] = String(ms) }
        if let status = result.httpStatus { headers[Self.statusHeader] = String(status) }
        let data: Data
        var kept: Data?
        if result.contentType == "application/json" {
            data = try ExecController.withRequestID(body, requestID)
            headers[.contentType] = "application/json; charset=utf-8"
            kept = data
        } else if asJSON {
            var fields: [String: Any] = ["content_type": result.contentType, "encoding": "base64", "bytes": body.count,
                                         "data": Data(body).base64EncodedString(), "request_id": requestID]
            if let url = result.url { fields["url"] = url }
            if let status = result.httpStatus { fields["http_status"] = status }
            data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])
            headers[.contentType] = "application/json; charset=utf-8"
        } else {
            data = Data(body)
            headers[.contentType] = result.contentType
        }
        let figures = CallFigures(cpuMs: Int64(result.cpuMs), wallMs: Int64(result.wallMs),
                                  memoryPeakBytes: Int64(result.memoryPeakBytes ?? 0), bytesOut: Int64(data.count),
                                  egressBytes: egressBytes)
        return (Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data))),
                Meter.Outcome(status: "ok", httpStatus: 200, ran: true, figures: figures, response: kept))
    }
}
