import Foundation
import Hummingbird
import NIOCore
import Store

/// `POST /v1/fetch`: GET, HEAD or POST a URL from the supervisor with libcurl,
/// through the egress proxy (every connection, redirects included, decided
/// as `net.connect` and counted), after the policy has decided the call as
/// `fetch` and the meter has reserved it.
struct FetchController {
    let pipeline: CallPipeline
    /// nil when the server runs without the egress proxy: every fetch is refused.
    let proxy: EgressProxy?
    /// The server's ceiling on timeout_ms (lowered by the plan's call.timeout_ms).
    let maxTimeoutMs: Int

    static let tool = "fetch"

    func fetch(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let tenant = context.authentication?.tenant else { throw APIError.unauthenticated("missing API key") }
        guard let proxy else {
            throw APIError.unavailable(code: "egress_disabled", "this server runs without the egress proxy (egress.enabled), so it fetches nothing")
        }
        let body = try await JSONBody.decode(FetchRequest.self, from: request, context: context)
        let limits = try await pipeline.meter.limits(for: tenant)
        let transfer = try body.checked(maxTimeoutMs: min(maxTimeoutMs, limits.ceiling(Metric.callTimeoutMs) ?? .max))
        let requestID = context.requestID
        let start = try await pipeline.start(tenant: tenant, tool: Self.tool, args: FetchRequest.policyArgs(transfer),
                                             limits: limits, requestID: requestID,
                                             idempotencyKey: request.headers[ExecController.idempotencyKey]) {
            try DeferredCall(fetch: body.held(as: transfer), deadline: .milliseconds(transfer.timeoutMs + 15_000))
        }
        let ticket: Meter.Ticket
        switch start {
        case .answered(let response): return response
        case .run(let reserved): ticket = reserved
        }
        let session = proxy.session(tenant: tenant, via: Self.tool, requestID: requestID)
        let client = context.channel
        let data = try await pipeline.meter.finish(ticket) {
            try await Self.run(transfer, proxy: proxy, session: session, requestID: requestID, client: client)
        }
        var headers = CallPipeline.warningHeaders(ticket)
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Runs the transfer through the proxy's fetch entrance and closes the
    /// session: the answer's bytes and the ledger's view of the call. Also
    /// how a fetch held for approval runs once approved (no client then).
    static func run(_ transfer: CurlTransfer.Request, proxy: EgressProxy, session: EgressSession, requestID: String,
                    client: (any Channel)?) async throws -> (Data, Meter.Outcome) {
        let entrance = try await proxy.fetchEntrance()
        let started = ContinuousClock.now
        let result = await perform(transfer, session: session, entrance: entrance, client: client)
        let egress = await session.close()
        let wallMs = Int64((ContinuousClock.now - started) / .milliseconds(1))
        // A connection the proxy refused or could not make is the answer, whatever curl made of it.
        if let refusal = session.refusal { throw refusal }
        let response = try answer(result, requestID: requestID, timeoutMs: transfer.timeoutMs)
        let encoded = try JSONCoding.encoder.encode(response)
        return (encoded, Meter.Outcome(status: "ok", httpStatus: 200, ran: true,
                                       figures: CallFigures(wallMs: wallMs, bytesOut: Int64(encoded.count), egressBytes: egress),
                                       response: encoded))
    }

    /// Runs the transfer on a thread of its own; a client that goes away cancels it.
    private static func perform(_ transfer: CurlTransfer.Request, session: EgressSession, entrance: FetchEntrance,
                                client: (any Channel)?) async -> Result<CurlTransfer.Response, CurlTransfer.Failure> {
        let cancellation = CurlTransfer.Cancellation()
        let watchdog = Task {
            while !Task.isCancelled, client?.isActive ?? true {
                try await Task.sleep(for: WorkerCall.clientCheck)
            }
            cancellation.cancel()
        }
        defer { watchdog.cancel() }
        do {
            return try await BlockingWork.run("fetch") {
                let curl = CurlTransfer(transfer, proxyPort: entrance.port, cancellation: cancellation) { port in
                    entrance.expect(port, for: session)
                }
                let result = curl.perform()
                for port in curl.ports { entrance.forget(port) }
                return result
            }
        } catch {
            return .failure(.failed("the transfer could not start: \(error)"))
        }
    }

    private static func answer(_ result: Result<CurlTransfer.Response, CurlTransfer.Failure>, requestID: String,
                               timeoutMs: Int) throws -> FetchResponse {
        switch result {
        case .success(let response):
            return FetchResponse(response, requestID: requestID)
        case .failure(.timeout):
            throw APIError(.requestTimeout, code: "timeout", message: "the fetch did not finish within timeout_ms (\(timeoutMs) ms)")
        case .failure(.tooManyRedirects):
            throw APIError(.badGateway, code: "too_many_redirects", message: "the URL redirected more often than max_redirects allows")
        case .failure(.cancelled):
            throw APIError(.badRequest, code: "cancelled", message: "the client went away; the fetch was stopped")
        case .failure(.failed(let message)):
            throw APIError(.badGateway, code: "fetch_failed", message: "the fetch failed: \(message)")
        }
    }
}
