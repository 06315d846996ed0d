#if canImport(Glibc)
import Glibc
#endif
import Sandbox
import Synchronization
import WorkerProtocol

/// One connection to the supervisor: the handshake, then frames until the
/// supervisor shuts the worker down or goes away. Returns the exit status.
final class Session: Sendable {
    private let socket: FrameSocket
    private let egress: EgressBridge?
    private let shuttingDown = Atomic<Bool>(false)

    /// How long calls may take to end after they were cancelled because the worker is leaving.
    private static let cancelledCallsMs: Int64 = 5000

    init(socket: FrameSocket, egress: EgressBridge?) {
        self.socket = socket
        self.egress = egress
    }

    func run() -> Int32 {
        let tools: ToolRunner
        switch Handshake.perform(on: socket, egress: egress, version: WardenWorker.version) {
        case .ready(let runner): tools = runner
        case .exit(let status): return status
        }
        let calls = CallRegistry(maxCalls: tools.maxCalls)
        while true {
            let next: Frame?
            do {
                next = try socket.readFrame()
            } catch {
                Log.line("\(error)")
                socket.shutdownBoth()
                stop(calls)
                return 1
            }
            guard let frame = next else {
                // The supervisor is gone: nobody is left to read a result.
                stop(calls)
                return 0
            }
            switch frame.type {
            case .call: start(frame, calls: calls, tools: tools)
            case .cancel: calls.cancel(frame.callID)
            case .ping: try? socket.write(Frame(.pong))
            case .shutdown: beginShutdown(frame, calls: calls)
            case .hello:
                send(ErrorReply(.invalidRequest, "HELLO was already received on this connection"), id: 0)
            case .stdout, .stderr, .result, .error, .pong:
                Log.line("ignoring a \(frame.type) frame (call \(frame.callID)): only the worker sends those")
            }
        }
    }

    private func start(_ frame: Frame, calls: CallRegistry, tools: ToolRunner) {
        let id = frame.callID
        guard id != 0 else {
            return send(ErrorReply(.invalidRequest, "call id 0 is reserved for HELLO, PING and SHUTDOWN; number calls from 1"), id: 0)
        }
        let header: CallHeader
        do throws(ErrorReply) { header = try ArgumentDecoding.header(of: frame.payload) } catch { return send(error, id: id) }
        // The supervisor's workspace measurement runs beside a tenant's calls, never in their place.
        let cancellation: JailCancellation
        switch calls.admit(id, counted: header.tool != Tool.workspaceUsage.rawValue) {
        case .admitted(let c): cancellation = c
        case .closed: return send(ErrorReply(.busy, "the worker is shutting down; retry the call"), id: id)
        case .busy: return send(ErrorReply(.busy, "this tenant already runs \(calls.maxCalls) calls at once; retry when one ends"), id: id)
        case .duplicate: return send(ErrorReply(.invalidRequest, "call id \(id) is already running on this worker"), id: id)
        }
        let socket = self.socket
        let started = DetachedThread.start {
            var reply = tools.handle(frame, header: header, cancellation: cancellation)
            if calls.release(id) { reply = ToolRunner.markedAsShutdown(reply) }
            do { try socket.write(reply) } catch { Log.line("call \(id): could not send its result: \(error)") }
            calls.threadFinished()
        }
        if !started {
            _ = calls.release(id)
            calls.threadFinished()
            send(ErrorReply(.internal, "the worker could not start a thread for the call; the tenant may be at its process limit"), id: id)
        }
    }

    /// Stops taking calls, lets running ones finish within the grace period,
    /// cancels the rest, and exits once their results are sent.
    private func beginShutdown(_ frame: Frame, calls: CallRegistry) {
        guard !shuttingDown.exchange(true, ordering: .relaxed) else { return }
        let graceMs = (try? WireJSON.decode(Shutdown.self, from: frame.payload).graceMs) ?? Shutdown().graceMs
        calls.close()
        let socket = self.socket
        let started = DetachedThread.start {
            let deadline = MonotonicClock.nowMs() + Int64(max(0, min(graceMs, 3_600_000)))
            if !calls.waitUntilIdle(deadlineMs: deadline) {
                calls.cancelAll()
                calls.waitUntilIdle(deadlineMs: MonotonicClock.nowMs() + Session.cancelledCallsMs)
            }
            socket.shutdownBoth()
            // _exit: other threads may still be unwinding; there is nothing buffered to flush.
            _exit(0)
        }
        if !started {
            stop(calls)
            _exit(0)
        }
    }

    /// Cancels everything and waits a little for the jails to go.
    private func stop(_ calls: CallRegistry) {
        calls.close()
        calls.cancelAll()
        calls.waitUntilIdle(deadlineMs: MonotonicClock.nowMs() + Session.cancelledCallsMs)
    }

    private func send(_ error: ErrorReply, id: UInt32) {
        guard let frame = try? WireJSON.frame(.error, callID: id, error) else { return }
        try? socket.write(frame)
    }
}
