import Foundation
import Hummingbird
import Store

/// `warden nodes list|leases`: the nodes sharing the store, and who serves which tenant.
enum NodeAdminRoutes {
    static func add(to router: Router<AdminRequestContext>, methods: inout RouteMethods, store: any Store, nodeID: String) {
        router.get("/v1/nodes") { _, _ in
            try JSONResponse.make(AdminAPI.NodeList(node: nodeID, nodes: try await store.listNodes()))
        }
        methods.record("/v1/nodes", .get)
        router.get("/v1/leases") { _, _ in
            try JSONResponse.make(AdminAPI.LeaseList(leases: try await store.listLeases()))
        }
        methods.record("/v1/leases", .get)
    }
}

extension AdminAPI {
    public struct NodeList: Codable, Sendable {
        /// The node that answered.
        public var node: String
        public var nodes: [NodeRecord]

        public init(node: String, nodes: [NodeRecord]) {
            self.node = node
            self.nodes = nodes
        }
    }

    public struct LeaseList: Codable, Sendable {
        public var leases: [TenantLease]

        public init(leases: [TenantLease]) { self.leases = leases }
    }
}
