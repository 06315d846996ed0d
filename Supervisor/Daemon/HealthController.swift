import Foundation
import Hummingbird
import Store

/// `GET /v1/health`: unauthenticated, for load balancers and operators.
/// 200 when the store answers, 503 (same document) when it does not.
struct HealthController {
    let store: any Store
    let hostChecks: HostChecks
    let leases: TenantLeases?
    let workers: @Sendable () async -> Health.Workers

    struct Health: Codable, Sendable {
        var status: String
        var version: String
        var features: [String]
        var store: StoreHealth
        var workers: Workers
        var host: HostChecks
        var node: Node?

        struct StoreHealth: Codable, Sendable {
            var backend: String
            var reachable: Bool
            var error: String?
        }

        struct Workers: Codable, Sendable {
            var running: Int
            var degraded: Int
        }

        /// This node, and how many tenant leases it holds.
        struct Node: Codable, Sendable {
            var id: String
            var leases: Int
        }
    }

    func health(_ request: Request, context: some IdentifiedRequestContext) async throws -> Response {
        var storeHealth = Health.StoreHealth(backend: store.backend, reachable: true, error: nil)
        do {
            try await store.ping()
        } catch {
            storeHealth.reachable = false
            storeHealth.error = "\(error)"
            context.logger.warning("health check: store unreachable", metadata: ["error": "\(error)"])
        }
        var node: Health.Node?
        if let leases { node = Health.Node(id: leases.nodeID, leases: await leases.heldTenantIDs.count) }
        let health = Health(status: storeHealth.reachable ? "ok" : "unavailable",
                            version: WardenVersion.current, features: WardenVersion.features,
                            store: storeHealth, workers: await workers(), host: hostChecks, node: node)
        return try JSONResponse.make(health, status: storeHealth.reachable ? .ok : .serviceUnavailable)
    }
}

/// Encodes with the API's JSON dialect and status of choice.
enum JSONResponse {
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONCoding.encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
