import Hummingbird
import Logging

/// Second gate of the admin socket after its 0600 mode: the connecting
/// process's uid, from SO_PEERCRED, must be root or the daemon's own.
struct PeerCredentialMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext
    let policy: AdminPeerPolicy

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        let peer: PeerCredentials
        do {
            peer = try await PeerCredentials.of(context.channel)
        } catch {
            context.logger.error("admin peer credentials unreadable", metadata: ["error": "\(error)"])
            throw APIError.forbidden(code: "peer_not_allowed", "the admin API could not identify the caller")
        }
        guard policy.allows(peer) else {
            context.logger.warning("admin call refused", metadata: [
                "peer_uid": "\(peer.uid)", "peer_pid": "\(peer.pid)"])
            throw APIError.forbidden(code: "peer_not_allowed",
                                     "uid \(peer.uid) may not use the admin API; run as root or uid \(policy.daemonUID)")
        }
        var context = context
        context.peerUID = peer.uid
        context.logger[metadataKey: "peer_uid"] = "\(peer.uid)"
        context.logger[metadataKey: "peer_pid"] = "\(peer.pid)"
        // Operators' actions are rare and worth a line each.
        context.logger.info("admin call", metadata: ["method": "\(request.method.rawValue)", "path": "\(request.uri.path)"])
        return try await next(request, context)
    }
}
