import Foundation
import Hummingbird
import Store

/// The operators' API, served only on the admin Unix socket.
enum AdminRoutes {
    static func router(service: TenantService, decisions: DecisionServices, policy: AdminPeerPolicy,
                       nodeID: String = NodeSettings.hostNodeID(),
                       status: @escaping @Sendable () async -> AdminAPI.Status) -> Router<AdminRequestContext> {
        let router = Router(context: AdminRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: AccessLogMiddleware())
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: PeerCredentialMiddleware(policy: policy))
        router.add(middleware: BodyLimitMiddleware(limit: 1024 * 1024))
        var methods = RouteMethods()

        router.get("/v1/status") { _, _ in try JSONResponse.make(await status()) }
        methods.record("/v1/status", .get)

        router.post("/v1/tenants") { request, context in
            let body = try await JSONBody.decode(AdminAPI.CreateTenant.self, from: request, context: context)
            return try JSONResponse.make(try await service.create(name: body.name, plan: body.plan), status: .created)
        }
        router.get("/v1/tenants") { request, _ in
            let includeDeleted = request.uri.queryParameters.get("all") == "true"
            return try JSONResponse.make(AdminAPI.TenantList(
                tenants: try await service.store.listTenants(includeDeleted: includeDeleted)))
        }
        methods.record("/v1/tenants", .post)
        methods.record("/v1/tenants", .get)

        router.get("/v1/tenants/:tenant") { _, context in
            try JSONResponse.make(try await service.resolve(try context.parameters.require("tenant")))
        }
        router.delete("/v1/tenants/:tenant") { _, context in
            try JSONResponse.make(try await service.setStatus(try context.parameters.require("tenant"), to: .deleted))
        }
        methods.record("/v1/tenants/:tenant", .get)
        methods.record("/v1/tenants/:tenant", .delete)

        router.post("/v1/tenants/:tenant/suspend") { _, context in
            try JSONResponse.make(try await service.setStatus(try context.parameters.require("tenant"), to: .suspended))
        }
        methods.record("/v1/tenants/:tenant/suspend", .post)
        router.post("/v1/tenants/:tenant/resume") { _, context in
            try JSONResponse.make(try await service.setStatus(try context.parameters.require("tenant"), to: .active))
        }
        methods.record("/v1/tenants/:tenant/resume", .post)

        router.post("/v1/tenants/:tenant/keys") { _, context in
            try JSONResponse.make(try await service.issueKey(try context.parameters.require("tenant")), status: .created)
        }
        router.get("/v1/tenants/:tenant/keys") { _, context in
            try JSONResponse.make(AdminAPI.KeyList(keys: try await service.listKeys(try context.parameters.require("tenant"))))
        }
        methods.record("/v1/tenants/:tenant/keys", .post)
        methods.record("/v1/tenants/:tenant/keys", .get)

        router.get("/v1/keys") { _, _ in
            try JSONResponse.make(AdminAPI.KeyList(keys: try await service.listKeys(nil)))
        }
        methods.record("/v1/keys", .get)
        router.delete("/v1/keys/:key") { _, context in
            try JSONResponse.make(try await service.revokeKey(try context.parameters.require("key")))
        }
        methods.record("/v1/keys/:key", .delete)

        if let workers = service.workers {
            router.get("/v1/workers") { _, _ in try JSONResponse.make(AdminAPI.WorkerList(workers: await workers.list())) }
            methods.record("/v1/workers", .get)
            router.post("/v1/workers/:tenant/kill") { _, context in
                let tenant = try await service.resolve(try context.parameters.require("tenant"))
                guard await workers.kill(tenant.id) else { throw APIError.notFound("tenant \(tenant.id) has no running worker") }
                return try JSONResponse.make(AdminAPI.WorkerAction(tenantID: tenant.id, action: "killed"))
            }
            methods.record("/v1/workers/:tenant/kill", .post)
            router.post("/v1/workers/:tenant/restart") { _, context in
                let tenant = try await service.resolve(try context.parameters.require("tenant"))
                await workers.restart(tenant.id)
                return try JSONResponse.make(AdminAPI.WorkerAction(tenantID: tenant.id, action: "restarting"))
            }
            methods.record("/v1/workers/:tenant/restart", .post)
        }

        NodeAdminRoutes.add(to: router, methods: &methods, store: service.store, nodeID: nodeID)
        DecisionAdminRoutes.add(to: router, methods: &methods, decisions: decisions, service: service)
        QuotaAdminRoutes.add(to: router, methods: &methods, decisions: decisions, service: service)

        methods.addMethodNotAllowed(to: router)
        return router
    }
}
