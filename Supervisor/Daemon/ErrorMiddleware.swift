import Hummingbird

/// Outermost but for the request id: every failure leaves as JSON in the
/// API's error shape, and unexpected ones are logged with their details.
struct ErrorMiddleware<Context: IdentifiedRequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let (apiError, isUnexpected) = APIError.from(error, request: request, requestID: context.requestID)
            if isUnexpected {
                context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            } else if apiError.status.code >= 500 {
                context.logger.warning("request refused", metadata: ["error": "\(apiError)"])
            }
            return try apiError.response(from: request, context: context)
        }
    }
}
