import Foundation

/// What `POST /v1/fetch` answers: the origin's status and headers (names in
/// lower case; repeated ones joined with ", "), and the body as UTF-8 text
/// when it is valid UTF-8, else base64.
struct FetchResponse: Encodable, Sendable {
    var status: Int
    var headers: [String: String]
    var body: String
    /// "utf8" or "base64".
    var encoding: String
    /// The body is longer than max_bytes: only that much was read.
    var truncated: Bool
    /// Bytes of the body given (before any encoding).
    var bytes: Int
    /// The URL of the last response, after redirects.
    var url: String
    var redirects: Int
    var requestID: String

    enum CodingKeys: String, CodingKey {
        case status, headers, body, encoding, truncated, bytes, url, redirects
        case requestID = "request_id"
    }

    init(_ response: CurlTransfer.Response, requestID: String) {
        status = response.status
        var joined: [String: String] = [:]
        for header in response.headers { joined[header.name] = joined[header.name].map { "\($0), \(header.value)" } ?? header.value }
        headers = joined
        if let text = String(validating: response.body, as: UTF8.self) {
            body = text
            encoding = "utf8"
        } else {
            body = Data(response.body).base64EncodedString()
            encoding = "base64"
        }
        truncated = response.truncated
        bytes = response.body.count
        url = response.url
        redirects = response.redirects
        self.requestID = requestID
    }
}
