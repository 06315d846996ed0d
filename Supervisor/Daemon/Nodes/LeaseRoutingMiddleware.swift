import Foundation
import Hummingbird
import Store

/// Calls that need the tenant's worker run on the node holding the tenant's
/// lease: here when this node holds it or takes it now, else forwarded to
/// the holder. A call that was forwarded once is never forwarded again.
struct LeaseRoutingMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let leases: TenantLeases
    let forwarder: NodeForwarder

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let tenant = context.authentication?.tenant else { return try await next(request, context) }
        let route: TenantLeases.Route
        do {
            route = try await leases.route(tenant.id)
        } catch let error as APIError {
            throw error
        } catch {
            context.logger.error("the store did not answer who serves the tenant", metadata: ["error": "\(error)"])
            throw APIError.unavailable(code: "store_unavailable", "the store did not answer; try again shortly")
        }
        guard case .elsewhere(let lease) = route else {
            var response = try await next(request, context)
            response.headers[NodeForwarder.servedBy] = forwarder.nodeID
            return response
        }

        let retryAfter = String(max(1, Int((Double(lease.remainingMs) / 1000).rounded(.up))))
        if let from = request.headers[NodeForwarder.forwardedBy] {
            throw APIError(.serviceUnavailable, code: "tenant_moved",
                           message: "node \(from) forwarded this call here, but tenant \(tenant.id) is now served by node \(lease.nodeID); retry",
                           headers: [.retryAfter: "1"])
        }
        guard let address = lease.advertise.flatMap(NodeAddress.init) else {
            await leases.forgetHolder(of: tenant.id)
            throw APIError(.serviceUnavailable, code: "node_unreachable",
                           message: "tenant \(tenant.id) is served by node \(lease.nodeID), which advertises no address; retry once its lease expires",
                           headers: [.retryAfter: retryAfter])
        }
        do {
            context.logger.debug("call forwarded", metadata: ["node": "\(lease.nodeID)", "address": "\(address)"])
            return try await forwarder.forward(request, to: address, requestID: context.requestID, client: context.channel)
        } catch let failure as NodeForwarder.Unreachable {
            await leases.forgetHolder(of: tenant.id)
            context.logger.warning("the node holding the tenant's lease did not answer",
                                   metadata: ["node": "\(lease.nodeID)", "address": "\(address)", "error": "\(failure.detail)"])
            throw APIError(.serviceUnavailable, code: "node_unreachable",
                           message: "tenant \(tenant.id) is served by node \(lease.nodeID) at \(address), which did not answer; if it is gone, its lease expires within \(retryAfter) s and the next call runs elsewhere",
                           headers: [.retryAfter: retryAfter])
        }
    }
}
