/// Why a byte stream is not a valid frame sequence. Any of these ends the
/// connection: the reader cannot find the next frame boundary it can trust.
public enum FrameError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The length field exceeds `Frame.maxLength`.
    case tooLarge(length: Int)
    /// The length field is below the 5 bytes of type and call id.
    case tooShort(length: Int)
    case unknownType(UInt8)
    /// The stream ended inside a frame.
    case truncated(buffered: Int)
    /// Reading or writing the connection failed.
    case io(operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .tooLarge(let length):
            return "protocol error: a frame of \(length) bytes exceeds the maximum of \(Frame.maxLength); closing the connection"
        case .tooShort(let length):
            return "protocol error: a frame length of \(length) is below the \(Frame.fixedSize) bytes of type and call id; closing the connection"
        case .unknownType(let byte):
            let hex = String(byte, radix: 16, uppercase: true)
            return "protocol error: unknown frame type 0x\(byte < 16 ? "0" : "")\(hex); closing the connection"
        case .truncated(let buffered):
            return "protocol error: the connection closed in the middle of a frame (\(buffered) bytes buffered)"
        case .io(let operation, let errno):
            return "\(operation) on the worker socket failed (errno \(errno))"
        }
    }
}
