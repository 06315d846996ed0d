import Hummingbird
import Store

/// `GET /v1/whoami`: the tenant and key behind the bearer token; lets a
/// client check its key without side effects.
struct WhoAmIController {
    struct WhoAmI: Codable, Sendable {
        var tenant: Tenant
        var keyID: String
        var requestID: String

        enum CodingKeys: String, CodingKey {
            case tenant
            case keyID = "key_id"
            case requestID = "request_id"
        }
    }

    func whoami(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let authentication = context.authentication else {
            throw APIError.unauthenticated("missing 'Authorization: Bearer <api key>' header")
        }
        return try JSONResponse.make(WhoAmI(tenant: authentication.tenant, keyID: authentication.key.id,
                                            requestID: context.requestID))
    }
}
