import FoundationEssentials

/// The JSON of frame payloads: compact, keys as the message types name them.
public enum WireJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from payload: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(payload))
    }

    /// A frame carrying `value` as JSON.
    public static func frame<T: Encodable>(_ type: FrameType, callID: UInt32, _ value: T) throws -> Frame {
        Frame(type, callID: callID, payload: try encode(value))
    }
}
