import Foundation
import Hummingbird
import Logging
import NIOCore
import Store

/// What the shared middlewares (request id, errors, body limit) need of a context.
public protocol IdentifiedRequestContext: RequestContext {
    var requestID: String { get set }
    var bodyLimit: Int { get set }
}

/// Context of the tenant-facing API.
public struct APIRequestContext: IdentifiedRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestID = ""
    public var bodyLimit = SupervisorConfiguration().maxBodyBytes
    /// Set by `BearerAuthMiddleware` on authenticated routes.
    public var authentication: Authentication?
    /// The client's connection: a call stops when it closes.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Hummingbird's decoders stop reading at this size and answer 413.
    public var maxUploadSize: Int { bodyLimit }

    public var responseEncoder: JSONEncoder { JSONCoding.encoder }
}

/// Context of the operators' API on the Unix socket; keeps the channel so the
/// peer's credentials can be read from the socket.
public struct AdminRequestContext: IdentifiedRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestID = ""
    public var bodyLimit = 1024 * 1024
    public let channel: any Channel
    /// The caller's uid, set by `PeerCredentialMiddleware`: who approved, who reloaded.
    public var peerUID: UInt32?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    public var maxUploadSize: Int { bodyLimit }

    public var responseEncoder: JSONEncoder { JSONCoding.encoder }
}
