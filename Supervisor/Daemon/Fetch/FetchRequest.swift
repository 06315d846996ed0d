import Foundation
import Policy

/// The body of `POST /v1/fetch`, checked: 400 for what is not understood,
/// 422 for a limit out of range (naming the field).
struct FetchRequest: Codable, Sendable {
    var url: String
    var method: String?
    var headers: [String: String]?
    var body: String?
    /// "utf8" (the default) or "base64".
    var bodyEncoding: String?
    var maxBytes: Int?
    var maxRedirects: Int?
    var timeoutMs: Int?

    enum CodingKeys: String, CodingKey {
        case url, method, headers, body
        case bodyEncoding = "body_encoding"
        case maxBytes = "max_bytes"
        case maxRedirects = "max_redirects"
        case timeoutMs = "timeout_ms"
    }

    static let methods = ["GET", "HEAD", "POST"]
    static let defaultMaxBytes = 8 << 20
    static let largestMaxBytes = 32 << 20
    static let defaultRedirects = 5
    static let largestRedirects = 20
    static let defaultTimeoutMs = 30_000

    /// The transfer this asks for, within `maxTimeoutMs` (the server's and the plan's ceiling).
    func checked(maxTimeoutMs: Int) throws -> CurlTransfer.Request {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty else {
            throw APIError.invalidRequest("url must be an absolute http:// or https:// URL with a host, not \"\(url.prefix(200))\"")
        }
        guard components.user == nil && components.password == nil else {
            throw APIError.invalidRequest("url must not carry credentials; send them in a header")
        }
        let method = (self.method ?? "GET").uppercased()
        guard Self.methods.contains(method) else {
            throw APIError.invalidRequest("method must be one of \(Self.methods.joined(separator: ", ")), not \"\(method.prefix(20))\"")
        }
        var headers: [(name: String, value: String)] = []
        for (name, value) in (self.headers ?? [:]).sorted(by: { $0.key < $1.key }) {
            let token = CharacterSet(charactersIn: "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
            guard !name.isEmpty, name.unicodeScalars.allSatisfy(token.contains) else {
                throw APIError.invalidRequest("header name \"\(name.prefix(100))\" is not a valid HTTP field name")
            }
            guard !value.contains("\r"), !value.contains("\n"), !value.contains("\0") else {
                throw APIError.invalidRequest("the value of header \(name) contains a line break or NUL")
            }
            headers.append((name, value))
        }
        var payload: [UInt8]?
        if let body {
            guard method == "POST" else { throw APIError.invalidRequest("only POST sends a body; this is \(method)") }
            switch bodyEncoding ?? "utf8" {
            case "utf8": payload = Array(body.utf8)
            case "base64":
                guard let bytes = Data(base64Encoded: body) else { throw APIError.invalidRequest("body is not valid base64") }
                payload = Array(bytes)
            case let other: throw APIError.invalidRequest("body_encoding must be utf8 or base64, not \"\(other.prefix(20))\"")
            }
        }
        return CurlTransfer.Request(
            url: url, method: method, headers: headers, body: payload,
            maxBytes: try Self.limit(maxBytes, "max_bytes", default: Self.defaultMaxBytes, in: 1...Self.largestMaxBytes, unit: "bytes"),
            maxRedirects: try Self.limit(maxRedirects, "max_redirects", default: Self.defaultRedirects,
                                         in: 0...Self.largestRedirects, unit: "redirects"),
            timeoutMs: try Self.limit(timeoutMs, "timeout_ms", default: min(Self.defaultTimeoutMs, maxTimeoutMs),
                                      in: 1...maxTimeoutMs, unit: "ms"))
    }

    private static func limit(_ value: Int?, _ field: String, default fallback: Int, in range: ClosedRange<Int>,
                              unit: String) throws -> Int {
        guard let value else { return fallback }
        guard range.contains(value) else {
            throw APIError.invalidField("\(field) must be between \(range.lowerBound) and \(range.upperBound) \(unit), got \(value)")
        }
        return value
    }

    /// The request as it will run when it was held for approval: the limits
    /// it was checked with are written in, so the run needs no defaults.
    func held(as transfer: CurlTransfer.Request) -> FetchRequest {
        var copy = self
        copy.maxBytes = transfer.maxBytes
        copy.maxRedirects = transfer.maxRedirects
        copy.timeoutMs = transfer.timeoutMs
        return copy
    }

    /// What the policy sees of a fetch (the URL's host rules apply to `url`).
    static func policyArgs(_ r: CurlTransfer.Request) -> [String: Value] {
        [
            "url": .string(r.url), "method": .string(r.method), "max_bytes": Value(r.maxBytes),
            "max_redirects": Value(r.maxRedirects), "timeout_ms": Value(r.timeoutMs),
            "headers": .array(r.headers.map { .string($0.name.lowercased()) }), "body_bytes": Value(r.body?.count ?? 0),
        ]
    }
}
