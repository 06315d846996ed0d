import Hummingbird
import Logging

/// One log line per request with its outcome; the request id comes from the
/// logger metadata set just before.
struct AccessLogMiddleware<Context: IdentifiedRequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        context.logger.info("request", metadata: [
            "method": "\(request.method.rawValue)",
            "path": "\(request.uri.path)",
            "status": "\(response.status.code)",
            "duration_ms": "\((milliseconds * 10).rounded() / 10)",
        ])
        return response
    }
}
