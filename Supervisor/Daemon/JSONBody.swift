import Foundation
import Hummingbird
import NIOCore

/// Reads a JSON request body with errors that say what was wrong:
/// 413 past the limit, 400 for text that is not JSON, 422 for JSON of the
/// wrong shape, naming the field.
enum JSONBody {
    static func decode<Value: Decodable>(_ type: Value.Type, from request: Request,
                                         context: some IdentifiedRequestContext) async throws -> Value {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: context.bodyLimit)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limit: context.bodyLimit)
        }
        guard buffer.readableBytes > 0 else {
            throw APIError.malformedJSON("the request body is empty; send a JSON object")
        }
        do {
            return try JSONCoding.decoder.decode(Value.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw describe(error)
        }
    }

    static func describe(_ error: DecodingError) -> APIError {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.isEmpty ? "the body" : "'" + codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
                .joined(separator: ".") + "'"
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            let detail = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return .malformedJSON("the request body is not valid JSON: \(detail ?? context.debugDescription)")
        case .dataCorrupted(let context):
            return .invalidField("\(path(context.codingPath)) is invalid: \(context.debugDescription)")
        case .keyNotFound(let key, let context):
            return .invalidField("missing field \(path(context.codingPath + [key]))")
        case .typeMismatch(let expected, let context):
            return .invalidField("\(path(context.codingPath)) must be \(describe(expected))")
        case .valueNotFound(let expected, let context):
            return .invalidField("\(path(context.codingPath)) must be \(describe(expected)), not null")
        @unknown default:
            return .malformedJSON("the request body could not be read: \(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object"
        }
    }
}
