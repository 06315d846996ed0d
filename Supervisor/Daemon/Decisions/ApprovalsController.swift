import Foundation
import Hummingbird

/// `GET /v1/approvals/{id}`: a tenant follows its own held call; `?wait=S`
/// waits up to S seconds (at most 60) for the decision and the result.
struct ApprovalsController {
    let approvals: ApprovalService
    static let maxWaitSeconds = 60.0

    func get(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let tenant = context.authentication?.tenant else { throw APIError.unauthenticated("missing API key") }
        let id = try context.parameters.require("id")
        var wait = 0.0
        if let raw = request.uri.queryParameters.get("wait") {
            guard let seconds = Double(raw), seconds.isFinite, (0...Self.maxWaitSeconds).contains(seconds) else {
                throw APIError.invalidRequest("wait must be a number of seconds between 0 and \(Int(Self.maxWaitSeconds)), got '\(raw)'")
            }
            wait = seconds
        }
        // Another tenant's approval is as absent as one that never existed.
        guard let found = try await approvals.get(id), found.tenantID == tenant.id else {
            throw APIError.notFound("no approval \(id)")
        }
        let approval = wait > 0 ? try await approvals.wait(id, timeout: .milliseconds(Int64(wait * 1000))) ?? found : found
        return try JSONResponse.make(ApprovalView(approval))
    }
}
