import Foundation
import Hummingbird
import Logging
import Store

/// `Authorization: Bearer <key>` → tenant. Unknown, revoked and deleted
/// tenants' keys are 401; a suspended tenant is 403. The store is asked on
/// every request, so a suspension takes effect on the next call.
struct BearerAuthMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let store: any Store

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthenticated("missing 'Authorization: Bearer <api key>' header")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw APIError.unauthenticated("the Authorization header must be 'Bearer <api key>'")
        }
        let token = parts[1].trimmingCharacters(in: .whitespaces)

        let authentication: Authentication?
        do {
            authentication = try await store.authenticate(token: token)
        } catch {
            context.logger.error("store failed during authentication", metadata: ["error": "\(error)"])
            throw APIError.unavailable(code: "store_unavailable", "the store did not answer; try again shortly")
        }
        guard let authentication, authentication.tenant.status != .deleted else {
            throw APIError.unauthenticated("unknown or revoked API key")
        }
        guard authentication.tenant.status == .active else {
            throw APIError.forbidden(code: "tenant_suspended",
                                     "tenant \(authentication.tenant.id) is suspended; ask the operator to resume it")
        }
        var context = context
        context.authentication = authentication
        context.logger[metadataKey: "tenant_id"] = .string(authentication.tenant.id)
        context.logger[metadataKey: "key_id"] = .string(authentication.key.id)
        return try await next(request, context)
    }
}
