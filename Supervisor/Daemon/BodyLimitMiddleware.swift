import Hummingbird

/// Refuses a declared oversize body before reading it, and tells the body
/// decoders where to stop for bodies without a declared length.
struct BodyLimitMiddleware<Context: IdentifiedRequestContext>: RouterMiddleware {
    let limit: Int

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw APIError.bodyTooLarge(limit: limit)
        }
        var context = context
        context.bodyLimit = limit
        return try await next(request, context)
    }
}
