import Foundation
import NIOCore

/// The proxy's own answers, written as raw HTTP/1.1 bytes (the connection
/// carries raw bytes once a tunnel or a forwarded request is under way).
enum ProxyResponse {
    static let tunnelEstablished = ByteBuffer(string: "HTTP/1.1 200 Connection established\r\n\r\n")

    /// A refusal in the API's error shape; the connection closes after it.
    static func refusal(_ error: APIError) -> ByteBuffer {
        let body = (try? JSONCoding.encoder.encode(APIError.ErrorBody(error: .init(
            code: error.code, message: error.message, reasons: error.reasons, quota: error.quota))))
            ?? Data("{\"error\":{\"code\":\"\(error.code)\"}}".utf8)
        var head = "HTTP/1.1 \(error.status.code) \(error.status.reasonPhrase)\r\n"
        head += "Content-Type: application/json; charset=utf-8\r\nContent-Length: \(body.count)\r\n"
        head += "Connection: close\r\nX-Warden-Error: \(error.code)\r\n"
        for field in error.headers { head += "\(field.name): \(field.value)\r\n" }
        head += "\r\n"
        var buffer = ByteBuffer(string: head)
        buffer.writeBytes(body)
        return buffer
    }
}
