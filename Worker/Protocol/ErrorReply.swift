/// The payload of an ERROR frame, which ends a call (or a failed handshake).
public struct ErrorReply: Sendable, Codable, Equatable, Error {
    public var code: ErrorCode
    public var message: String
    /// For `invalid_limit`: the argument that was refused.
    public var field: String?

    public init(_ code: ErrorCode, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }
}

public enum ErrorCode: String, Sendable, Codable, Equatable {
    /// The same code the supervisor uses for a request it cannot understand.
    case invalidRequest = "invalid_request"
    case invalidLimit = "invalid_limit"
    case notFound = "not_found"
    case busy
    case tooLarge = "too_large"
    case noSpace = "no_space"
    case `internal`
    /// A browser call ran out of its time (loading, waiting or the tool's work).
    case timeout
    /// The page could not be loaded (connection refused, bad response…): Chromium's reason.
    case navigationFailed = "navigation_failed"
    /// The egress proxy refused the page's host: the policy's message.
    case egressDenied = "egress_denied"
    /// The page's JavaScript (evaluate's expression or function) threw.
    case evaluationFailed = "evaluation_failed"
    /// The page used more memory than the tenant's browser may; the browser was restarted.
    case memoryExceeded = "memory_exceeded"
    /// The page or the browser crashed; the browser was restarted.
    case browserCrashed = "browser_crashed"
    /// The browser could not start, or the worker has none.
    case browserUnavailable = "browser_unavailable"
    /// Handshake only: the worker does not speak the HELLO's protocol version.
    case protocolVersion = "protocol_version"

    /// The HTTP status the supervisor answers with.
    public var httpStatus: Int {
        switch self {
        case .invalidRequest: return 400
        case .invalidLimit: return 422
        case .notFound: return 404
        case .busy: return 503
        case .tooLarge: return 413
        case .noSpace, .memoryExceeded: return 507
        case .timeout: return 408
        case .egressDenied: return 403
        case .evaluationFailed: return 422
        case .navigationFailed, .browserCrashed: return 502
        case .browserUnavailable: return 503
        case .internal, .protocolVersion: return 500
        }
    }
}
