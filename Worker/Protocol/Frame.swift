/// One unit on the wire: a 4-byte big-endian length N of what follows, the
/// type (1 byte), the call id (4 bytes, big-endian), then N − 5 bytes of payload.
public struct Frame: Sendable, Equatable {
    public var type: FrameType
    public var callID: UInt32
    public var payload: [UInt8]

    /// Bytes of the length field.
    public static let lengthSize = 4
    /// Bytes the length counts besides the payload: type and call id.
    public static let fixedSize = 5
    /// The largest payload a frame may carry (1 MiB).
    public static let maxPayload = 1 << 20
    /// The largest value of the length field.
    public static let maxLength = maxPayload + fixedSize

    public init(_ type: FrameType, callID: UInt32 = 0, payload: [UInt8] = []) {
        self.type = type
        self.callID = callID
        self.payload = payload
    }

    /// The frame as it goes on the wire.
    public func encoded() throws(FrameError) -> [UInt8] {
        guard payload.count <= Frame.maxPayload else {
            throw FrameError.tooLarge(length: payload.count + Frame.fixedSize)
        }
        let length = UInt32(payload.count + Frame.fixedSize)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Frame.lengthSize + Int(length))
        bytes.appendBigEndian(length)
        bytes.append(type.rawValue)
        bytes.appendBigEndian(callID)
        bytes.append(contentsOf: payload)
        return bytes
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value >> 24))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }
}
