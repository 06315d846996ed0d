/// The kind of a frame: the byte after the length.
public enum FrameType: UInt8, Sendable, CaseIterable {
    /// Handshake, call id 0: the supervisor's `Hello`, the worker's `HelloReply`.
    case hello = 0x01
    /// Supervisor → worker: a `CallRequest` that starts a call.
    case call = 0x02
    /// Worker → supervisor: raw bytes of a streamed call's stdout or stderr, in order.
    case stdout = 0x03
    case stderr = 0x04
    /// Ends a call with its JSON result.
    case result = 0x05
    /// Ends a call (or the handshake) with an `ErrorReply`.
    case error = 0x06
    /// Supervisor → worker, empty: kill the call's jail; the call still ends with its RESULT.
    case cancel = 0x07
    /// Health check, call id 0, empty both ways.
    case ping = 0x08
    case pong = 0x09
    /// Supervisor → worker, call id 0: a `Shutdown`; the worker stops after a grace period.
    case shutdown = 0x0A
}

extension FrameType: CustomStringConvertible {
    /// The name the protocol description uses (HELLO, CALL, …).
    public var description: String {
        switch self {
        case .hello: return "HELLO"
        case .call: return "CALL"
        case .stdout: return "STDOUT"
        case .stderr: return "STDERR"
        case .result: return "RESULT"
        case .error: return "ERROR"
        case .cancel: return "CANCEL"
        case .ping: return "PING"
        case .pong: return "PONG"
        case .shutdown: return "SHUTDOWN"
        }
    }
}
