import Foundation
import Hummingbird
import Store

/// `GET /v1/usage`: a tenant's own limits and use (the figures `warden quota
/// show` and `warden usage` give the operator), never another tenant's.
struct UsageController {
    let meter: Meter

    struct Body: Codable, Sendable {
        var quota: QuotaReport
        var usage: UsageReport
    }

    func usage(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let tenant = context.authentication?.tenant else { throw APIError.unauthenticated("missing API key") }
        let report = try await UsageQueryParameters.report(request.uri.queryParameters.map { ($0.key, $0.value) },
                                                           tenantID: tenant.id, store: meter.store)
        return try JSONResponse.make(Body(quota: try await meter.quotaReport(for: tenant), usage: report))
    }
}
