import FoundationEssentials
import WorkerProtocol

/// Turns a CALL's JSON into typed arguments, and decoding failures into
/// errors that name the argument at fault.
enum ArgumentDecoding {
    /// Arguments whose bad values are limits (422 naming the field), not malformed requests.
    static let limitFields: Set<String> = ["timeout_ms", "cpu_ms", "memory_mb", "output_bytes"]

    static func header(of payload: [UInt8]) throws(ErrorReply) -> CallHeader {
        do {
            return try WireJSON.decode(CallHeader.self, from: payload)
        } catch {
            throw ErrorReply(.invalidRequest, "CALL must be a JSON object with a \"tool\": \(describe(error))")
        }
    }

    static func args<A: Codable & Sendable>(_ type: A.Type, from payload: [UInt8]) throws(ErrorReply) -> A {
        do {
            return try WireJSON.decode(CallRequest<A>.self, from: payload).args
        } catch let error as DecodingError {
            let path = codingPath(of: error)
            let field = path.first?.stringValue == "args" ? Array(path.dropFirst()) : path
            let name = dotted(field)
            if let last = field.last, limitFields.contains(last.stringValue) {
                throw ErrorReply(.invalidLimit, "\(name) must be a whole number within the limits of the plan", field: name)
            }
            throw ErrorReply(.invalidRequest, describe(error))
        } catch {
            throw ErrorReply(.invalidRequest, "the call's arguments are not valid JSON: \(error)")
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        let name = dotted(codingPath(of: error))
        switch error {
        case .keyNotFound: return "\(name) is required"
        case .typeMismatch(let type, _): return "\(name) must be \(typeName(type))"
        case .valueNotFound(let type, _): return "\(name) must be \(typeName(type)), not null"
        case .dataCorrupted(let context):
            return name.isEmpty ? "not valid JSON: \(context.debugDescription)" : "\(name): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    private static func codingPath(of error: DecodingError) -> [any CodingKey] {
        switch error {
        case .keyNotFound(let key, let context): return context.codingPath + [key]
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return context.codingPath
        @unknown default: return []
        }
    }

    private static func dotted(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue { text += "[\(index)]" } else { text += text.isEmpty ? key.stringValue : "." + key.stringValue }
        }
        return text
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type, is Int32.Type, is Int64.Type: return "a whole number"
        default:
            let text = "\(type)"
            if text.hasPrefix("Array") { return "an array" }
            if text.hasPrefix("Dictionary") || text.hasPrefix("KeyedDecodingContainer") { return "an object" }
            return "of type \(text)"
        }
    }
}
