#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import Sandbox
import WorkerProtocol

/// The first exchange: HELLO in, HELLO (or ERROR and exit 2) out.
enum Handshake {
    enum Outcome {
        case ready(ToolRunner)
        case exit(Int32)
    }

    static func perform(on socket: FrameSocket, egress: EgressBridge?, version: String) -> Outcome {
        let first: Frame?
        do {
            first = try socket.readFrame()
        } catch {
            Log.line("\(error)")
            return .exit(1)
        }
        guard let frame = first else {
            Log.line("the supervisor closed the connection before HELLO")
            return .exit(0)
        }
        guard frame.type == .hello else {
            return refuse(socket, ErrorReply(.invalidRequest, "the first frame must be HELLO, not \(frame.type)"))
        }
        let offered = (try? WireJSON.decode(HelloVersion.self, from: frame.payload))?.protocol
        guard offered == ProtocolVersion.current else {
            let what = offered.map { "protocol version \($0)" } ?? "a HELLO without a protocol version"
            return refuse(socket, ErrorReply(.protocolVersion,
                                             "this worker (\(version)) speaks protocol \(ProtocolVersion.current), not \(what); run a worker and supervisor of the same release"))
        }
        let hello: Hello
        do {
            hello = try WireJSON.decode(Hello.self, from: frame.payload)
        } catch {
            return refuse(socket, ErrorReply(.invalidRequest, "HELLO is not valid: \(ArgumentDecoding.describe(error))"))
        }
        let runner: ToolRunner
        do {
            runner = try ToolRunner(hello: hello, socket: socket, egress: egress)
        } catch {
            return refuse(socket, error)
        }
        do {
            try socket.write(WireJSON.frame(.hello, callID: 0, HelloReply(pid: getpid(), version: version)))
        } catch {
            Log.line("could not answer HELLO: \(error)")
            return .exit(1)
        }
        return .ready(runner)
    }

    private static func refuse(_ socket: FrameSocket, _ error: ErrorReply) -> Outcome {
        Log.line(error.message)
        if let frame = try? WireJSON.frame(.error, callID: 0, error) { try? socket.write(frame) }
        return .exit(2)
    }
}
