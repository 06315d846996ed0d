import Foundation
import Hummingbird
import Store

/// The one error shape of the HTTP APIs:
/// `{"error": {"code": "...", "message": "..."}}` with a matching status.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var headers: HTTPFields
    /// Each reason on its own, when there are several (a policy's deny messages).
    public var reasons: [String]?
    /// The limit a 429 is about.
    public var quota: QuotaExceeded?

    public init(_ status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:],
                reasons: [String]? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.reasons = reasons
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        let body = try JSONCoding.encoder.encode(ErrorBody(error: .init(code: code, message: message, reasons: reasons,
                                                                        quota: quota)))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The wire format, shared with clients that decode it.
    public struct ErrorBody: Codable, Sendable {
        public var error: Detail
        public struct Detail: Codable, Sendable {
            public var code: String
            public var message: String
            public var reasons: [String]?
            public var metric: String?
            public var limit: Double?
            public var used: Double?
            public var resetsAt: Date?

            public init(code: String, message: String, reasons: [String]? = nil, quota: QuotaExceeded? = nil) {
                self.code = code
                self.message = message
                self.reasons = reasons
                metric = quota?.metric
                limit = quota?.limit
                used = quota?.used
                resetsAt = quota?.resetsAt
            }

            enum CodingKeys: String, CodingKey {
                case code, message, reasons, metric, limit, used
                case resetsAt = "resets_at"
            }
        }
    }
}

extension APIError {
    public static func malformedJSON(_ message: String) -> APIError {
        APIError(.badRequest, code: "malformed_json", message: message)
    }
    public static func invalidRequest(_ message: String) -> APIError {
        APIError(.badRequest, code: "invalid_request", message: message)
    }
    public static func unauthenticated(_ message: String) -> APIError {
        APIError(.unauthorized, code: "unauthenticated", message: message,
                 headers: [.wwwAuthenticate: "Bearer realm=\"warden\""])
    }
    public static func forbidden(code: String, _ message: String) -> APIError {
        APIError(.forbidden, code: code, message: message)
    }
    public static func notFound(_ message: String) -> APIError {
        APIError(.notFound, code: "not_found", message: message)
    }
    public static func methodNotAllowed(_ method: HTTPRequest.Method, path: String,
                                        allowed: [HTTPRequest.Method]) -> APIError {
        let names = allowed.map(\.rawValue).joined(separator: ", ")
        return APIError(.methodNotAllowed, code: "method_not_allowed",
                        message: "\(method.rawValue) is not allowed on \(path); use \(names)",
                        headers: [.allow: names])
    }
    public static func conflict(_ message: String) -> APIError {
        APIError(.conflict, code: "conflict", message: message)
    }
    public static func bodyTooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, code: "body_too_large",
                 message: "the request body is larger than the limit of \(limit) bytes")
    }
    public static func invalidField(_ message: String) -> APIError {
        APIError(.unprocessableContent, code: "invalid_field", message: message)
    }
    public static func `internal`(requestID: String) -> APIError {
        APIError(.internalServerError, code: "internal",
                 message: "internal error; the server log has the details under request id \(requestID)")
    }
    public static func unavailable(code: String, _ message: String) -> APIError {
        APIError(.serviceUnavailable, code: code, message: message)
    }
}
