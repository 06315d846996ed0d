import FoundationEssentials
import Sandbox
import WorkerProtocol

/// Everything a call needs, set up once from HELLO, and the dispatch of a
/// CALL frame to its tool. `handle` returns the frame that ends the call.
final class ToolRunner: Sendable {
    let maxCalls: Int
    private let exec: ExecTool
    private let files: FilesTool
    private let browser: BrowserTool
    private let workspace: Workspace
    private let storage: WorkspaceStorage

    init(hello: Hello, socket: FrameSocket, egress: EgressBridge?) throws(ErrorReply) {
        maxCalls = hello.maxCalls > 0 ? min(hello.maxCalls, 4096) : 16
        let program = try Self.compile(hello.execProfile, field: "exec_profile")
        guard hello.workspace.hasPrefix("/") else {
            throw ErrorReply(.invalidRequest, "workspace of HELLO must be an absolute path, not \"\(hello.workspace)\"")
        }
        let workspace = try Workspace(path: hello.workspace)
        let jail: Jail
        do {
            // cgroups when the supervisor delegated a writable hierarchy, else none.
            jail = try (try? Jail(cgroupRoot: "/sys/fs/cgroup", cgroupParent: "calls")) ?? Jail(cgroupRoot: nil)
        } catch {
            throw ErrorReply(.internal, "the worker could not set up its jail: \(error)")
        }
        exec = ExecTool(jail: jail, seccomp: program, workspace: workspace, socket: socket, egress: egress)
        browser = BrowserTool(host: try hello.browser.map { settings throws(ErrorReply) in
                                  try Self.browserHost(settings, jail: jail, egress: egress)
                              },
                              memoryBytes: hello.browser?.memoryBytes, socket: socket)
        files = FilesTool(workspace: workspace, socket: socket)
        self.workspace = workspace
        storage = hello.storage ?? .directory
    }

    func handle(_ frame: Frame, header: CallHeader, cancellation: JailCancellation) -> Frame {
        let id = frame.callID
        do throws(ErrorReply) {
            guard let tool = Tool(rawValue: header.tool) else {
                let known = Tool.allCases.map(\.rawValue).joined(separator: ", ")
                throw ErrorReply(.invalidRequest, "unknown tool \"\(header.tool)\"; this worker serves \(known)")
            }
            switch tool {
            case .exec:
                let args = try ArgumentDecoding.args(ExecArgs.self, from: frame.payload)
                return try exec.run(args, callID: id, cancellation: cancellation)
            case .filesList:
                return try files.list(ArgumentDecoding.args(FilesListArgs.self, from: frame.payload), callID: id)
            case .filesRead:
                return try files.read(ArgumentDecoding.args(FilesReadArgs.self, from: frame.payload), callID: id)
            case .filesWrite:
                return try files.write(ArgumentDecoding.args(FilesWriteArgs.self, from: frame.payload), callID: id)
            case .filesDelete:
                return try files.delete(ArgumentDecoding.args(FilesDeleteArgs.self, from: frame.payload), callID: id)
            case .workspaceUsage:
                return try Self.resultFrame(WorkspaceUsageMeter.measure(workspace, storage: storage), callID: id)
            case .browserContent, .browserScreenshot, .browserPDF, .browserEvaluate:
                let args = try ArgumentDecoding.args(BrowserArgs.self, from: frame.payload)
                return try browser.run(tool, args, callID: id, cancellation: cancellation)
            }
        } catch {
            return Self.errorFrame(error, callID: id)
        }
    }

    /// A seccomp profile that HELLO carries, compiled.
    private static func compile(_ profile: JSONValue, field: String) throws(ErrorReply) -> SeccompProgram {
        do {
            return try SeccompCompiler.compile(SeccompProfile.decode(WireJSON.encode(profile), source: "HELLO \(field)"))
        } catch {
            throw ErrorReply(.invalidRequest, "\(field) of HELLO is not a usable seccomp profile: \(error)")
        }
    }

    /// The tenant's browser as HELLO describes it (not started until a call needs it).
    private static func browserHost(_ settings: BrowserSettings, jail: Jail, egress: EgressBridge?) throws(ErrorReply) -> BrowserHost {
        let program = try compile(settings.profile, field: "browser.profile")
        guard settings.binary.hasPrefix("/") else {
            throw ErrorReply(.invalidRequest, "browser.binary of HELLO must be an absolute path, not \"\(settings.binary)\"")
        }
        let spec = BrowserJail(binary: settings.binary, seccomp: program, memoryBytes: settings.memoryBytes,
                               identity: ToolIdentity.choose(payloadID: ExecTool.payloadID, wanted: ExecTool.nestedIDs))
        return BrowserHost(spec: spec, jail: jail, egress: egress, idleMs: settings.idleMs)
    }

    static func errorFrame(_ error: ErrorReply, callID: UInt32) -> Frame {
        (try? WireJSON.frame(.error, callID: callID, error))
            ?? Frame(.error, callID: callID, payload: Array(#"{"code":"internal","message":"the error could not be encoded"}"#.utf8))
    }

    /// A RESULT frame, or `internal` when the result cannot go in one frame.
    static func resultFrame<T: Encodable>(_ value: T, callID: UInt32) throws(ErrorReply) -> Frame {
        let payload: [UInt8]
        do { payload = try WireJSON.encode(value) } catch {
            throw ErrorReply(.internal, "the result could not be encoded: \(error)")
        }
        guard payload.count <= Frame.maxPayload else {
            throw ErrorReply(.internal, "the result of \(payload.count) bytes does not fit in one frame")
        }
        return Frame(.result, callID: callID, payload: payload)
    }

    /// An exec call cancelled because the worker is shutting down says so, not "cancelled by the caller".
    static func markedAsShutdown(_ frame: Frame) -> Frame {
        guard frame.type == .result, var result = try? WireJSON.decode(ExecResult.self, from: frame.payload),
              result.status == JailResult.Status.signaled.rawValue else { return frame }
        result.message = "cancelled: the worker is shutting down"
        return (try? resultFrame(result, callID: frame.callID)) ?? frame
    }
}
