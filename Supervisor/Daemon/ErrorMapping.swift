import Foundation
import Hummingbird
import NIOCore
import Store

extension APIError {
    /// Turns anything a handler can throw into the API's error shape. Errors
    /// we do not recognise become a 500 whose details stay in the log.
    static func from(_ error: any Error, request: Request, requestID: String) -> (APIError, isUnexpected: Bool) {
        switch error {
        case let error as APIError:
            return (error, false)
        case let error as StoreError:
            switch error {
            case .conflict(let message): return (.conflict(message), false)
            case .notFound(let message): return (.notFound(message), false)
            case .invalid(let message): return (.invalidField(message), false)
            case .schemaTooNew: return (.unavailable(code: "store_unavailable", error.description), false)
            case .hostIDRangesExhausted(let message): return (.unavailable(code: "capacity_exhausted", message), false)
            case .unavailable(let message): return (.unavailable(code: "store_unavailable", message), false)
            }
        case is NIOTooManyBytesError:
            return (.bodyTooLarge(limit: 0).withMessage("the request body is larger than the server accepts"), false)
        case let error as HTTPError:
            return (fromHTTPError(error, request: request), false)
        case let error as DecodingError:
            return (JSONBody.describe(error), false)
        default:
            return (.internal(requestID: requestID), true)
        }
    }

    private static func fromHTTPError(_ error: HTTPError, request: Request) -> APIError {
        switch error.status {
        case .notFound:
            return .notFound("no route for \(request.method.rawValue) \(request.uri.path)")
        case .contentTooLarge:
            return APIError(.contentTooLarge, code: "body_too_large",
                            message: error.body ?? "the request body is larger than the server accepts")
        default:
            let code = error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            return APIError(error.status, code: code, message: error.body ?? error.status.reasonPhrase)
        }
    }

    func withMessage(_ message: String) -> APIError {
        var copy = self
        copy.message = message
        return copy
    }
}
