import Hummingbird
import Store

/// Gives every request an id: the client's `X-Request-Id` when it is sane,
/// else a fresh one. It goes into the logger's metadata and the response.
struct RequestIDMiddleware<Context: IdentifiedRequestContext>: RouterMiddleware {
    static var headerName: HTTPFields.Element.Name { RequestIDHeader.name }

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let requestID = request.headers[Self.headerName].flatMap(Self.acceptable) ?? Self.generate()
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        var response = try await next(request, context)
        response.headers[Self.headerName] = requestID
        return response
    }

    /// Ids end up in logs and records, so only short, plain ones are kept.
    static func acceptable(_ candidate: String) -> String? {
        guard (1...128).contains(candidate.utf8.count),
              candidate.utf8.allSatisfy({ byte in
                  (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                      || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
                      || byte == UInt8(ascii: ":")
              })
        else { return nil }
        return candidate
    }

    static func generate() -> String { "req_" + RandomID.string(length: 20) }
}

public enum RequestIDHeader {
    // HTTPTypes comes through Hummingbird, which re-exports HTTPFields but not HTTPField.
    public static let name = HTTPFields.Element.Name("X-Request-Id")!
}
