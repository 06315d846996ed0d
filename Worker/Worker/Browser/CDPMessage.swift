import FoundationEssentials
import WorkerProtocol

/// Why a DevTools command or wait did not give its answer.
enum CDPFailure: Error, Equatable, CustomStringConvertible {
    /// The deadline passed first.
    case timedOut
    /// The caller cancelled the call.
    case cancelled
    /// The pipe closed: the browser is gone.
    case closed(String)
    /// The page's renderer crashed or its target went away.
    case crashed(String)
    /// Chromium answered with an error.
    case remote(code: Int, message: String)
    /// A message that does not read as the protocol says.
    case malformed(String)

    var description: String {
        switch self {
        case .timedOut: return "timed out"
        case .cancelled: return "cancelled"
        case .closed(let why): return "the browser is gone (\(why))"
        case .crashed(let why): return "the page crashed (\(why))"
        case .remote(let code, let message): return "Chromium refused: \(message) (\(code))"
        case .malformed(let what): return "unreadable DevTools message: \(what)"
        }
    }
}

/// A command as it goes on the pipe.
struct CDPCommand<Params: Encodable>: Encodable {
    var id: Int
    var method: String
    var params: Params
    var sessionId: String?
}

struct NoParams: Codable, Sendable {}

/// What every incoming message is read for first: a reply carries `id`, an
/// event `method`; both may carry the session they belong to.
struct CDPEnvelope: Decodable {
    var id: Int?
    var method: String?
    var sessionId: String?
    var error: RemoteError?

    struct RemoteError: Decodable {
        var code: Int
        var message: String
        var data: String?
    }
}

/// A reply's result, decoded as the command's own type.
struct CDPReply<Result: Decodable>: Decodable {
    var result: Result
}

/// An event's parameters, decoded as the event's own type.
struct CDPEventParams<Params: Decodable>: Decodable {
    var params: Params
}

/// An event kept for the callers that wait for it.
struct CDPEvent: Sendable {
    /// Increases with every event of a connection: "after sequence n" means "after this point".
    var sequence: Int
    var method: String
    var sessionId: String?
    var raw: [UInt8]

    func params<P: Decodable>(_ type: P.Type) -> P? {
        try? JSONDecoder().decode(CDPEventParams<P>.self, from: Data(raw)).params
    }
}

enum CDPJSON {
    static func encode<T: Encodable>(_ value: T) throws(CDPFailure) -> [UInt8] {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            return Array(try encoder.encode(value))
        } catch {
            throw CDPFailure.malformed("cannot encode a command: \(error)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(CDPFailure) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw CDPFailure.malformed("\(error)")
        }
    }

    /// A JavaScript string literal for `text` (JSON's string syntax is valid JavaScript).
    static func literal(_ text: String) -> String {
        (try? encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }
}
