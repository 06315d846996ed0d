import FoundationEssentials
import WorkerProtocol

/// Contents sent as text or base64.
enum ContentEncoding {
    static func decode(_ content: String, encoding: String?, field: String) throws(ErrorReply) -> [UInt8] {
        switch encoding ?? "utf8" {
        case "utf8", "utf-8": return Array(content.utf8)
        case "base64":
            guard let data = Data(base64Encoded: content, options: .ignoreUnknownCharacters) else {
                throw ErrorReply(.invalidRequest, "\(field).content is not valid base64")
            }
            return Array(data)
        case let other:
            throw ErrorReply(.invalidRequest, "\(field).encoding is \"\(other)\"; use utf8 or base64")
        }
    }
}
