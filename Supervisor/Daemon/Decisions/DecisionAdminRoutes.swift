import Foundation
import Hummingbird
import Store

/// The operators' side of decisions: policy reload, the audit log, approvals.
enum DecisionAdminRoutes {
    static func add(to router: Router<AdminRequestContext>, methods: inout RouteMethods,
                    decisions: DecisionServices, service: TenantService) {
        router.get("/v1/policy") { _, _ in try JSONResponse.make(decisions.engine.summary) }
        methods.record("/v1/policy", .get)
        router.post("/v1/policy/reload") { _, context in
            do {
                return try JSONResponse.make(try await decisions.reloadPolicies(actor: actor(context), logger: context.logger))
            } catch let error as PolicyReloadError {
                throw APIError(.unprocessableContent, code: "policy_invalid",
                               message: "the policies were not reloaded; the previous ones stay active:\n\(error)",
                               reasons: error.errors.map(\.text))
            }
        }
        methods.record("/v1/policy/reload", .post)

        router.get("/v1/audit") { request, _ in
            let parameters = request.uri.queryParameters
            var query = AuditQuery(limit: try integer(parameters.get("limit"), "limit", in: 1...10_000) ?? 100)
            if let tenant = parameters.get("tenant") { query.tenantID = try await tenantID(tenant, service) }
            query.since = try date(parameters.get("since"), "since")
            query.until = try date(parameters.get("until"), "until")
            query.afterID = try integer(parameters.get("after_id"), "after_id", in: 0...Int.max).map(Int64.init)
            return try JSONResponse.make(AdminAPI.AuditList(records: try await service.store.auditRecords(query)))
        }
        methods.record("/v1/audit", .get)

        router.get("/v1/approvals") { request, _ in
            let parameters = request.uri.queryParameters
            var status: ApprovalStatus?
            if let raw = parameters.get("status") {
                guard let parsed = ApprovalStatus(rawValue: raw) else {
                    throw APIError.invalidRequest("status must be one of \(ApprovalStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                status = parsed
            }
            var tenant: String?
            if let raw = parameters.get("tenant") { tenant = try await tenantID(raw, service) }
            let limit = try integer(parameters.get("limit"), "limit", in: 1...10_000) ?? 100
            let list = try await decisions.approvals.list(tenantID: tenant, status: status, limit: limit)
            return try JSONResponse.make(AdminAPI.ApprovalList(approvals: list.map(ApprovalView.init)))
        }
        methods.record("/v1/approvals", .get)
        router.get("/v1/approvals/:id") { _, context in
            let id = try context.parameters.require("id")
            guard let approval = try await decisions.approvals.get(id) else { throw APIError.notFound("no approval \(id)") }
            return try JSONResponse.make(ApprovalView(approval))
        }
        methods.record("/v1/approvals/:id", .get)
        router.post("/v1/approvals/:id/approve") { request, context in
            let body = try await JSONBody.decode(AdminAPI.DecideApproval.self, from: request, context: context)
            return try JSONResponse.make(ApprovalView(try await decisions.approvals.approve(
                try context.parameters.require("id"), by: actor(context), note: body.note)))
        }
        methods.record("/v1/approvals/:id/approve", .post)
        router.post("/v1/approvals/:id/deny") { request, context in
            let body = try await JSONBody.decode(AdminAPI.DecideApproval.self, from: request, context: context)
            return try JSONResponse.make(ApprovalView(try await decisions.approvals.deny(
                try context.parameters.require("id"), by: actor(context), note: body.note)))
        }
        methods.record("/v1/approvals/:id/deny", .post)
    }

    static func actor(_ context: AdminRequestContext) -> String {
        context.peerUID.map { "uid \($0)" } ?? "admin"
    }

    static func tenantID(_ reference: String, _ service: TenantService) async throws -> String {
        // Deleted tenants keep their records: an id is taken as given.
        reference.hasPrefix(Tenant.idPrefix) ? reference : try await service.resolve(reference).id
    }

    static func integer(_ raw: String?, _ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let raw else { return nil }
        guard let value = Int(raw), range.contains(value) else {
            throw APIError.invalidRequest("\(name) must be an integer between \(range.lowerBound) and \(range.upperBound), got '\(raw)'")
        }
        return value
    }

    static func date(_ raw: String?, _ name: String) throws -> Date? {
        guard let raw else { return nil }
        guard let date = RFC3339.parse(raw) else {
            throw APIError.invalidRequest("\(name) must be an RFC 3339 time such as 2026-11-21T09:00:00Z, got '\(raw)'")
        }
        return date
    }
}
