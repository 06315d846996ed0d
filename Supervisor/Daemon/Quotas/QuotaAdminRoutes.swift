import Foundation
import Hummingbird
import NIOCore
import Store

/// The operators' side of plans and usage: `warden plan`, `tenant set-plan`,
/// `tenant limit`, `quota show` and `usage`.
enum QuotaAdminRoutes {
    static func add(to router: Router<AdminRequestContext>, methods: inout RouteMethods,
                    decisions: DecisionServices, service: TenantService) {
        let store = service.store
        let meter = decisions.meter
        /// Plan edits reach the policies at once.
        @Sendable func published<T>(_ value: T) async throws -> T {
            try await decisions.publishPlans(store)
            return value
        }

        router.get("/v1/plans") { _, _ in try JSONResponse.make(AdminAPI.PlanList(plans: try await store.listPlans())) }
        router.post("/v1/plans") { request, context in
            let plan = try await JSONBody.decode(Plan.self, from: request, context: context)
            return try JSONResponse.make(try await published(try await store.createPlan(plan)), status: .created)
        }
        methods.record("/v1/plans", .get)
        methods.record("/v1/plans", .post)
        router.get("/v1/plans/:name") { _, context in
            let name = try context.parameters.require("name")
            guard let plan = try await store.plan(named: name) else { throw APIError.notFound("no plan named '\(name)'") }
            return try JSONResponse.make(plan)
        }
        router.put("/v1/plans/:name") { request, context in
            var plan = try await JSONBody.decode(Plan.self, from: request, context: context)
            plan.name = try context.parameters.require("name")
            return try JSONResponse.make(try await published(try await store.updatePlan(plan)))
        }
        router.delete("/v1/plans/:name") { _, context in
            let name = try context.parameters.require("name")
            try await store.deletePlan(named: name)
            _ = try await published(())
            return Response(status: .noContent)
        }
        methods.record("/v1/plans/:name", .get)
        methods.record("/v1/plans/:name", .put)
        methods.record("/v1/plans/:name", .delete)

        router.post("/v1/tenants/:tenant/plan") { request, context in
            let body = try await JSONBody.decode(AdminAPI.SetPlan.self, from: request, context: context)
            let tenant = try await service.resolve(try context.parameters.require("tenant"))
            return try JSONResponse.make(try await store.setTenantPlan(id: tenant.id, plan: body.plan))
        }
        methods.record("/v1/tenants/:tenant/plan", .post)
        router.get("/v1/tenants/:tenant/limits") { _, context in
            let tenant = try await service.resolve(try context.parameters.require("tenant"))
            return try JSONResponse.make(AdminAPI.TenantLimits(tenantID: tenant.id, limits: try await store.tenantLimits(tenantID: tenant.id)))
        }
        methods.record("/v1/tenants/:tenant/limits", .get)
        router.put("/v1/tenants/:tenant/limits/:metric") { request, context in
            let tenant = try await service.resolve(try context.parameters.require("tenant"))
            let limit = try await JSONBody.decode(Limit.self, from: request, context: context)
            try await store.setTenantLimit(tenantID: tenant.id, metric: try context.parameters.require("metric"), limit: limit)
            meter.plans.invalidate()
            return try JSONResponse.make(AdminAPI.TenantLimits(tenantID: tenant.id, limits: try await store.tenantLimits(tenantID: tenant.id)))
        }
        router.delete("/v1/tenants/:tenant/limits/:metric") { _, context in
            let tenant = try await service.resolve(try context.parameters.require("tenant"))
            try await store.setTenantLimit(tenantID: tenant.id, metric: try context.parameters.require("metric"), limit: nil)
            meter.plans.invalidate()
            return try JSONResponse.make(AdminAPI.TenantLimits(tenantID: tenant.id, limits: try await store.tenantLimits(tenantID: tenant.id)))
        }
        methods.record("/v1/tenants/:tenant/limits/:metric", .put)
        methods.record("/v1/tenants/:tenant/limits/:metric", .delete)

        router.get("/v1/tenants/:tenant/quota") { _, context in
            let tenant = try await service.resolve(try context.parameters.require("tenant"))
            return try JSONResponse.make(try await meter.quotaReport(for: tenant))
        }
        methods.record("/v1/tenants/:tenant/quota", .get)

        router.get("/v1/tenants/:tenant/usage-chart") { request, context in
            let tenant = try await service.resolve(try context.parameters.require("tenant"))
            let parameters = request.uri.queryParameters
            let metric = parameters.get("metric") ?? Metric.calls("exec", .day)
            let days = try DecisionAdminRoutes.integer(parameters.get("days"), "days", in: 1...366) ?? 30
            let limits = try await meter.limits(for: tenant)
            let today = meter.now()
            let since = Calendar(identifier: .gregorian).date(byAdding: .day, value: -(days + 1), to: today)
            let records = try await store.ledger(LedgerQuery(tenantID: tenant.id, since: since))
            let chart = try UsageChart(metric: metric, tenant: tenant, limit: limits[metric], records: records,
                                       dayCount: days, today: today)
            return Response(status: .ok, headers: [.contentType: "image/svg+xml; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: chart.svg())))
        }
        methods.record("/v1/tenants/:tenant/usage-chart", .get)

        router.get("/v1/usage") { request, _ in
            let parameters = request.uri.queryParameters
            var tenantID: String?
            if let raw = parameters.get("tenant") { tenantID = try await DecisionAdminRoutes.tenantID(raw, service) }
            return try JSONResponse.make(try await UsageQueryParameters.report(parameters, tenantID: tenantID, store: store))
        }
        methods.record("/v1/usage", .get)
    }
}

/// `?since=&until=&by=` of the usage reports, shared by the admin and tenant APIs.
enum UsageQueryParameters {
    static func report(_ parameters: some Sequence<(key: Substring, value: Substring)>, tenantID: String?,
                       store: any Store) async throws -> UsageReport {
        var by = UsageReport.Grouping.day
        var since: Date?
        var until: Date?
        for (key, value) in parameters {
            switch key {
            case "by":
                guard let grouping = UsageReport.Grouping(rawValue: String(value)) else {
                    throw APIError.invalidRequest("by must be one of day, month, tool; got '\(value)'")
                }
                by = grouping
            case "since": since = try DecisionAdminRoutes.date(String(value), "since")
            case "until": until = try DecisionAdminRoutes.date(String(value), "until")
            default: continue
            }
        }
        let records = try await store.ledger(LedgerQuery(tenantID: tenantID, since: since, until: until))
        return UsageReport.build(records, by: by, since: since, until: until)
    }
}
