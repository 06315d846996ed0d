import Foundation
import Hummingbird
import Store

/// `warden nodes list|leases|forget`: the nodes sharing the store, who serves which tenant, and
/// forgetting the nodes that are gone.
enum NodeAdminRoutes {
    static func add(to router: Router<AdminRequestContext>, methods: inout RouteMethods, store: any Store, nodeID: String) {
        router.get("/v1/nodes") { _, _ in
            try JSONResponse.make(AdminAPI.NodeList(node: nodeID, nodes: try await store.listNodes()))
        }
        methods.record("/v1/nodes", .get)
        // A dead or departed node's row (and any lease left under its name) goes; a live one stays (409).
        router.delete("/v1/nodes/:id") { _, context in
            let id = try context.parameters.require("id")
            guard id != nodeID else {
                throw APIError.conflict("node \(id) is the one answering: stop it instead")
            }
            return try JSONResponse.make(try await store.forgetNode(id: id))
        }
        methods.record("/v1/nodes/:id", .delete)
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
