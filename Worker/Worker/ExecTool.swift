import Sandbox
import Synchronization
import WorkerProtocol

/// The `exec` tool: the call's files into the workspace, then the interpreter
/// in a fresh nested tool jail whose read-only root holds the code.
final class ExecTool: Sendable {
    private let jail: Jail
    private let seccomp: SeccompProgram
    private let workspace: Workspace
    private let socket: FrameSocket
    private let egress: EgressBridge?
    private let identity = ToolIdentity.choose(payloadID: ExecTool.payloadID, wanted: ExecTool.nestedIDs)
    /// The next call's jail, made ready from this worker's second call on.
    private let arming: JailArming

    /// Where the tool jail sees the call's code (read-only) and the workspace (read-write).
    static let codeDirectory = "/code"
    static let workspaceMount = "/workspace"
    /// The one unprivileged id tenant code runs as (also the owner of workspace files).
    static let payloadID: UInt32 = 1000
    /// Ids the tool jail maps, 1:1 from the worker's user namespace.
    static let nestedIDs: UInt32 = 65536
    static let pidsPerCall = 128

    init(jail: Jail, seccomp: SeccompProgram, workspace: Workspace, socket: FrameSocket, egress: EgressBridge?) {
        self.egress = egress
        self.jail = jail
        arming = JailArming(jail: jail)
        self.seccomp = seccomp
        self.workspace = workspace
        self.socket = socket
    }

    func run(_ args: ExecArgs, callID: UInt32, cancellation: JailCancellation) throws(ErrorReply) -> Frame {
        let plan = try ExecPlan(args)
        for file in plan.files {
            _ = try workspace.write(file.path, bytes: file.bytes, append: false)
        }
        var config = configuration(plan)
        let lease = try plan.network ? network(&config, callID: callID) : nil
        defer { lease?.release() }
        // The proxy is reachable before the code's first connect; if it cannot be, the code does not run.
        let handOverFailure = Mutex<ErrorReply?>(nil)
        let started: (() -> Void)? = lease.map { lease in {
            do throws(ErrorReply) { try lease.handOver() } catch {
                handOverFailure.withLock { $0 = error }
                cancellation.cancel()
            }
        } }
        let input: JailInput = plan.stdin.isEmpty ? .null : .bytes(plan.stdin)
        let socket = self.socket
        // Streamed, each chunk goes out as it comes; otherwise the outcome keeps it.
        let forward: ((OutputStream, UnsafeRawBufferPointer) -> Void)? = !plan.stream ? nil : { stream, bytes in
            do {
                try socket.write(stream == .stdout ? .stdout : .stderr, callID: callID, chunking: bytes)
            } catch {
                // Nobody is reading: end the run rather than fill a dead socket.
                cancellation.cancel()
            }
        }
        let outcome = jail.run(config, stdin: input, keepOutput: !plan.stream, cancellation: cancellation,
                               onOutput: forward, onStarted: started, arming: arming)
        if let failure = handOverFailure.withLock({ $0 }) { throw failure }
        if outcome.result.status == .setupError {
            throw ErrorReply(.internal, "the tool jail could not be set up: \(outcome.result.message ?? "no reason given")")
        }
        return try ExecResultFrame.make(outcome, streamed: plan.stream, callID: callID)
    }

    /// A network namespace of the call's own whose loopback holds the egress
    /// proxy, and the variables that point HTTP clients at it.
    private func network(_ config: inout JailConfig, callID: UInt32) throws(ErrorReply) -> EgressLease {
        guard let egress else {
            throw ErrorReply(.invalidLimit, "this worker has no egress channel: the supervisor runs without the egress proxy",
                             field: "network")
        }
        let lease = try egress.prepare(&config, tag: EgressTag.call(callID))
        config.environment.merge(EgressBridge.proxyEnvironment) { _, proxy in proxy }
        return lease
    }

    private func configuration(_ plan: ExecPlan) -> JailConfig {
        let script = "\(Self.codeDirectory)/\(plan.language.scriptName)"
        var config = JailConfig(command: plan.language.command, arguments: [script] + plan.arguments)
        config.environment.merge(plan.language.environment) { _, new in new }
        config.workingDirectory = Self.workspaceMount
        config.binds = [Bind(source: workspace.path, target: Self.workspaceMount, writable: true)]
        // The code is written straight into the jail's root: no host file to make, bind and remove.
        config.files = [JailFile(path: script, contents: Array(plan.code.utf8), mode: 0o444)]
        config.network = .inherit
        config.identity = identity
        config.uid = Self.payloadID
        config.gid = Self.payloadID
        config.seccomp = seccomp
        // A whole (not streamed) result carries at most one frame of output: keep no more than that.
        let kept = plan.stream ? plan.outputBytes : min(plan.outputBytes, Frame.maxPayload)
        config.limits = Limits(memoryBytes: plan.memoryBytes, pids: Self.pidsPerCall, wallTimeMs: plan.timeoutMs,
                               cpuTimeMs: plan.cpuMs, outputBytes: kept)
        return config
    }
}
