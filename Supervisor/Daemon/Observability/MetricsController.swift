import Hummingbird
import NIOCore

/// `GET /metrics`: the Prometheus text exposition.
struct MetricsController {
    let metrics: ServiceMetrics
    let workers: WorkerManager?

    func metrics(_ request: Request, context: APIRequestContext) async throws -> Response {
        if let workers { metrics.workers(running: await workers.running, degraded: await workers.degraded) }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
    }
}
