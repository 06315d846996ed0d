import Hummingbird
import Store
import WorkerProtocol

/// The tenant-facing HTTP API on TCP.
enum PublicRoutes {
    static func router(store: any Store, configuration: SupervisorConfiguration, hostChecks: HostChecks,
                       workers: WorkerManager?, execLimits: ExecController.ExecLimits,
                       decisions: DecisionServices, browser: Bool = false) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        // Order matters: a middleware wraps only the routes added after it.
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: AccessLogMiddleware())
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: BodyLimitMiddleware(limit: configuration.maxBodyBytes))
        var methods = RouteMethods()

        let health = HealthController(store: store, hostChecks: hostChecks) {
            guard let workers else { return .init(running: 0, degraded: 0) }
            return .init(running: await workers.running, degraded: await workers.degraded)
        }
        router.get("/v1/health") { request, context in try await health.health(request, context: context) }
        methods.record("/v1/health", .get)
        let openapi = OpenAPIController()
        router.get("/v1/openapi.json") { request, context in try await openapi.openapi(request, context: context) }
        methods.record("/v1/openapi.json", .get)

        let metrics = MetricsController(metrics: decisions.metrics, workers: workers)
        router.get("/metrics") { request, context in try await metrics.metrics(request, context: context) }
        methods.record("/metrics", .get)

        let authenticated = router.group().add(middleware: BearerAuthMiddleware(store: store))
        let whoami = WhoAmIController()
        authenticated.get("/v1/whoami") { request, context in try await whoami.whoami(request, context: context) }
        methods.record("/v1/whoami", .get)

        if let workers {
            let call = WorkerCall(manager: workers)
            let storage = StorageGauge(call: call, store: store, logger: decisions.meter.logger, rootMode: hostChecks.rootMode)
            let exec = ExecController(call: call, limits: execLimits, pipeline: decisions.pipeline, storage: storage,
                                      egress: decisions.egress)
            authenticated.post("/v1/exec") { request, context in try await exec.exec(request, context: context) }
            methods.record("/v1/exec", .post)

            let files = FilesController(call: call, maxBodyBytes: configuration.maxBodyBytes, pipeline: decisions.pipeline,
                                        storage: storage)
            authenticated.get("/v1/files") { request, context in try await files.list(request, context: context) }
            authenticated.get("/v1/files/**") { request, context in try await files.read(request, context: context) }
            authenticated.put("/v1/files/**") { request, context in try await files.write(request, context: context) }
            authenticated.delete("/v1/files/**") { request, context in try await files.delete(request, context: context) }
            methods.record("/v1/files", .get)
            methods.record("/v1/files/**", .get)
            methods.record("/v1/files/**", .put)
            methods.record("/v1/files/**", .delete)

            let pages = BrowserController(call: call, pipeline: decisions.pipeline, egress: decisions.egress,
                                          maxTimeoutMs: configuration.browserMaxTimeoutMs, available: browser)
            for (path, tool) in [("content", Tool.browserContent), ("screenshot", .browserScreenshot),
                                 ("pdf", .browserPDF), ("evaluate", .browserEvaluate)] {
                authenticated.post("/v1/browser/\(path)") { request, context in try await pages.handle(tool, request, context: context) }
                methods.record("/v1/browser/\(path)", .post)
            }
        }

        let fetch = FetchController(pipeline: decisions.pipeline, proxy: decisions.egress,
                                    maxTimeoutMs: configuration.execMaxTimeoutMs)
        authenticated.post("/v1/fetch") { request, context in try await fetch.fetch(request, context: context) }
        methods.record("/v1/fetch", .post)

        let usage = UsageController(meter: decisions.meter)
        authenticated.get("/v1/usage") { request, context in try await usage.usage(request, context: context) }
        methods.record("/v1/usage", .get)

        let approvals = ApprovalsController(approvals: decisions.approvals)
        authenticated.get("/v1/approvals/:id") { request, context in try await approvals.get(request, context: context) }
        methods.record("/v1/approvals/:id", .get)

        methods.addMethodNotAllowed(to: router)
        return router
    }
}
