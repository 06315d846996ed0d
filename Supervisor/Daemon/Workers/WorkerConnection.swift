import Foundation
import Synchronization
import WorkerProtocol

/// The supervisor's end of one worker's socket: sends calls, and on a reader
/// thread of its own routes the worker's frames to the call they belong to.
final class WorkerConnection: Sendable {
    enum Event: Sendable {
        case stdout([UInt8])
        case stderr([UInt8])
        case result([UInt8])
        case failure(ErrorReply)
    }

    /// Why a call ended without an answer of the worker's.
    static let workerStopped = ErrorReply(.internal, "the worker stopped during the call")

    let socket: FrameSocket
    private let state = Mutex<State>(State())

    private struct State {
        var nextID: UInt32 = 1
        var calls: [UInt32: AsyncStream<Event>.Continuation] = [:]
        var closed = false
    }

    init(fd: Int32) {
        socket = FrameSocket(fd: fd)
    }

    /// Exchanges HELLO frames; runs before the reader thread starts.
    func handshake(_ hello: Hello) throws -> HelloReply {
        try socket.write(WireJSON.frame(.hello, callID: 0, hello))
        guard let frame = try socket.readFrame() else {
            throw ErrorReply(.internal, "the worker closed its socket during the handshake")
        }
        switch frame.type {
        case .hello: return try WireJSON.decode(HelloReply.self, from: frame.payload)
        case .error: throw try WireJSON.decode(ErrorReply.self, from: frame.payload)
        default: throw ErrorReply(.internal, "the worker answered the handshake with a \(frame.type) frame")
        }
    }

    /// Reads frames until the worker's end closes, then fails what is still open.
    func startReading(onClose: @escaping @Sendable (String) -> Void) {
        let thread = Thread { [self] in
            var reason = "the worker closed its socket"
            do {
                while let frame = try socket.readFrame() { route(frame) }
            } catch {
                reason = "the worker's socket failed: \(error)"
            }
            failAll()
            onClose(reason)
        }
        thread.name = "worker-reader"
        thread.start()
    }

    private func route(_ frame: Frame) {
        let ends = frame.type == .result || frame.type == .error
        let continuation = state.withLock { s in ends ? s.calls.removeValue(forKey: frame.callID) : s.calls[frame.callID] }
        guard let continuation else { return }
        switch frame.type {
        case .stdout: continuation.yield(.stdout(frame.payload))
        case .stderr: continuation.yield(.stderr(frame.payload))
        case .result: continuation.yield(.result(frame.payload))
        case .error:
            let reply = (try? WireJSON.decode(ErrorReply.self, from: frame.payload))
                ?? ErrorReply(.internal, "the worker sent an unreadable error")
            continuation.yield(.failure(reply))
        default: return
        }
        if ends { continuation.finish() }
    }

    /// Sends a call; its stdout/stderr chunks and its end arrive on the stream.
    /// `numbered` learns the call's id before the worker can (to open what the call will use).
    func call<Args: Codable & Sendable>(_ tool: Tool, _ args: Args, requestID: String,
                                        numbered: (UInt32) -> Void = { _ in }) throws -> (UInt32, AsyncStream<Event>) {
        let (stream, continuation) = AsyncStream<Event>.makeStream()
        let id = try state.withLock { s throws -> UInt32 in
            guard !s.closed else { throw Self.workerStopped }
            let id = s.nextID
            s.nextID &+= 1
            if s.nextID == 0 { s.nextID = 1 }
            s.calls[id] = continuation
            return id
        }
        numbered(id)
        do {
            try socket.write(WireJSON.frame(.call, callID: id, CallRequest(tool: tool, args: args, requestID: requestID)))
        } catch {
            state.withLock { _ = $0.calls.removeValue(forKey: id) }
            continuation.finish()
            throw Self.workerStopped
        }
        return (id, stream)
    }

    func cancel(_ id: UInt32) {
        try? socket.write(Frame(.cancel, callID: id))
    }

    /// Asks the worker to finish its calls (up to the grace) and exit.
    func shutdown(graceMs: Int) {
        try? socket.write(WireJSON.frame(.shutdown, callID: 0, Shutdown(graceMs: graceMs)))
    }

    var openCalls: Int { state.withLock { $0.calls.count } }

    /// True once the worker's end has closed: no call can go through any more.
    var isClosed: Bool { state.withLock { $0.closed } }

    private func failAll() {
        let open = state.withLock { s -> [AsyncStream<Event>.Continuation] in
            s.closed = true
            defer { s.calls.removeAll() }
            return Array(s.calls.values)
        }
        for c in open {
            c.yield(.failure(Self.workerStopped))
            c.finish()
        }
    }

    func close() {
        socket.shutdownBoth()
    }
}
