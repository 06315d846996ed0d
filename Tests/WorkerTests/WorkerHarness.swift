import Foundation
import Sandbox
import Synchronization
import Testing
import WorkerProtocol

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A real `warden-worker` in a real tenant jail, set up as the supervisor
/// will: kept capabilities, uid 0 of its own user namespace, the worker
/// seccomp profile, its socket as fd 3, the workspace at /workspace.
/// The test plays the supervisor over the other end of the socketpair.
final class WorkerHarness: Sendable {
    let socket: FrameSocket
    /// The workspace on the host.
    let workspace: String
    /// Marks the worker's environment so that the test can find its host pid.
    let tag: String
    /// The supervisor's end of the worker's egress channel (its fd 4), when it has one.
    let egress: Int32?
    private let frames = Mutex<(byCall: [UInt32: [Frame]], closed: Bool, readError: String?)>(([:], false, nil))
    private let outcome = Mutex<JailOutcome?>(nil)

    static let jail: Jail = {
        do { return try Jail(cgroupParent: "warden-worker-test") } catch { fatalError("cannot set up the jail: \(error)") }
    }()

    static let workerProfile: SeccompProgram = {
        do { return try SeccompCompiler.compile(SeccompProfile.load(TestPaths.policies + "/seccomp/worker.json")) } catch {
            fatalError("cannot compile the worker profile: \(error)")
        }
    }()

    /// policies/seccomp/exec.json as HELLO carries it.
    static let execProfile: JSONValue = {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.policies + "/seccomp/exec.json"))
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch { fatalError("cannot read the exec profile: \(error)") }
    }()

    /// policies/seccomp/browser.json as HELLO carries it.
    static let browserProfile: JSONValue = {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.policies + "/seccomp/browser.json"))
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch { fatalError("cannot read the browser profile: \(error)") }
    }()

    static let chromium = "/usr/lib/chromium/chromium-headless-shell"

    /// The tenant's browser as the supervisor describes it in HELLO.
    static func browser(memoryBytes: Int? = 1536 << 20, idleMs: Int = 60_000) -> BrowserSettings {
        BrowserSettings(binary: chromium, profile: browserProfile, memoryBytes: memoryBytes, idleMs: idleMs)
    }

    /// The host uid that the tenant jail's uid 1000 (and the tool jails' uid 1000) maps to.
    static let payloadHostID: UInt32 = 100_000 + 1000

    /// The tenant jail exactly as the tests start it (and as the supervisor should).
    static func tenantJail(workerFd: Int32, workspace: String, tag: String, identity: Identity = .automatic,
                           egressFd: Int32? = nil) -> JailConfig {
        var config = JailConfig(command: "/opt/warden/warden-worker")
        config.binds = [
            Bind(source: TestPaths.worker, target: "/opt/warden/warden-worker", writable: false),
            Bind(source: workspace, target: "/workspace", writable: true),
        ]
        if FileManager.default.fileExists(atPath: BrowserSettings.fontCache) { config.binds.append(Bind(source: BrowserSettings.fontCache)) }
        config.extraFileDescriptors = [workerFd] + (egressFd.map { [$0] } ?? [])
        config.keepCapabilities = true
        config.uid = 0
        config.gid = 0
        config.identity = identity
        config.network = .isolated
        config.seccomp = workerProfile
        config.environment["WARDEN_WORKER_TAG"] = tag
        config.workingDirectory = "/"
        config.limits = Limits(memoryBytes: 2 << 30, pids: 1024, outputBytes: 1 << 20)
        return config
    }

    private init(socket: FrameSocket, workspace: String, tag: String, egress: Int32?) {
        self.socket = socket
        self.workspace = workspace
        self.tag = tag
        self.egress = egress
    }

    /// Starts a worker; with `hello`, also completes the handshake.
    /// - Parameter workspaceBytes: put the workspace on a tmpfs of this size (to fill it up).
    /// - Parameter identity: `.callerOnly` maps a single id into the tenant jail, as a rootless supervisor does.
    /// - Parameter egress: give the worker an egress channel (fd 4), as the supervisor does.
    static func start(hello: Bool = true, maxCalls: Int = 16, workspaceBytes: Int? = nil,
                      identity: Identity = .automatic, storage: WorkspaceStorage? = nil,
                      browser: BrowserSettings? = nil, egress: Bool = false) throws -> WorkerHarness {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw HarnessError("socketpair failed: errno \(errno)")
        }
        let workspace = NSTemporaryDirectory() + "warden-worker-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        if let size = workspaceBytes {
            let options = "size=\(size),mode=0755,uid=\(payloadHostID),gid=\(payloadHostID)"
            guard mount("tmpfs", workspace, "tmpfs", 0, options) == 0 else {
                throw HarnessError("mounting a tmpfs workspace failed: errno \(errno)")
            }
        }
        // Rootless, everything in the jails is the caller's own id; as root, the payload's mapped id.
        let owner = identity == .callerOnly ? geteuid() : payloadHostID
        guard chown(workspace, owner, owner) == 0 else {
            throw HarnessError("chown of the workspace failed (the worker tests run as root): errno \(errno)")
        }
        var channel: [Int32] = [-1, -1]
        if egress, socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &channel) != 0 {
            throw HarnessError("socketpair for the egress channel failed: errno \(errno)")
        }
        let tag = UUID().uuidString
        let harness = WorkerHarness(socket: FrameSocket(fd: pair[0]), workspace: workspace, tag: tag,
                                    egress: egress ? channel[0] : nil)
        let config = tenantJail(workerFd: pair[1], workspace: workspace, tag: tag, identity: identity,
                                egressFd: egress ? channel[1] : nil)
        let workerEnd = pair[1], egressEnd = channel[1]
        Thread.detachNewThread {
            let result = WorkerHarness.jail.run(config)
            close(workerEnd)
            if egressEnd >= 0 { close(egressEnd) }
            harness.outcome.withLock { $0 = result }
        }
        Thread.detachNewThread { harness.readLoop() }
        if hello { try harness.handshake(maxCalls: maxCalls, storage: storage, browser: browser) }
        return harness
    }

    func handshake(maxCalls: Int = 16, storage: WorkspaceStorage? = nil, browser: BrowserSettings? = nil) throws {
        let hello = Hello(tenant: "t_test", maxCalls: maxCalls, execProfile: Self.execProfile, workspace: "/workspace",
                          storage: storage, browser: browser)
        try socket.write(WireJSON.frame(.hello, callID: 0, hello))
        let reply = try waitFrame(callID: 0)
        guard reply.type == .hello else {
            throw HarnessError("the worker answered HELLO with \(reply.type): \(String(decoding: reply.payload, as: UTF8.self)) \(diagnostics())")
        }
        let decoded = try WireJSON.decode(HelloReply.self, from: reply.payload)
        #expect(decoded.protocol == 1)
    }

    private func readLoop() {
        while true {
            do {
                guard let frame = try socket.readFrame() else { break }
                frames.withLock { $0.byCall[frame.callID, default: []].append(frame) }
            } catch {
                frames.withLock { $0.readError = "\(error)" }
                break
            }
        }
        frames.withLock { $0.closed = true }
    }

    // MARK: supervisor side

    func send(_ frame: Frame) throws { try socket.write(frame) }

    /// Bytes that need not be a valid frame.
    func sendRaw(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(socket.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func call<A: Codable & Sendable>(_ id: UInt32, _ tool: Tool, _ args: A) throws {
        try socket.write(WireJSON.frame(.call, callID: id, CallRequest(tool: tool, args: args, requestID: "req_\(id)")))
    }

    /// Runs a call and returns its frames, the last one RESULT or ERROR.
    func run<A: Codable & Sendable>(_ id: UInt32, _ tool: Tool, _ args: A, timeout: Double = 60) throws -> [Frame] {
        try call(id, tool, args)
        return try waitEnd(callID: id, timeout: timeout)
    }

    func exec(_ id: UInt32 = 1, _ args: ExecArgs, timeout: Double = 60) throws -> ExecResult {
        let frames = try run(id, .exec, args, timeout: timeout)
        return try result(ExecResult.self, frames)
    }

    func result<T: Decodable>(_ type: T.Type, _ frames: [Frame]) throws -> T {
        guard let last = frames.last, last.type == .result else {
            let text = frames.last.map { String(decoding: $0.payload, as: UTF8.self) } ?? "nothing"
            throw HarnessError("expected RESULT, got \(frames.last?.type.description ?? "none"): \(text)")
        }
        return try WireJSON.decode(type, from: last.payload)
    }

    func error(_ frames: [Frame]) throws -> ErrorReply {
        guard let last = frames.last, last.type == .error else {
            let text = frames.last.map { String(decoding: $0.payload, as: UTF8.self) } ?? "nothing"
            throw HarnessError("expected ERROR, got \(frames.last?.type.description ?? "none"): \(text)")
        }
        return try WireJSON.decode(ErrorReply.self, from: last.payload)
    }

    /// Waits for the frame that ends `callID` and returns all of the call's frames.
    func waitEnd(callID: UInt32, timeout: Double = 60) throws -> [Frame] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let (list, closed) = frames.withLock { s in (s.byCall[callID] ?? [], s.closed) }
            if let last = list.last, last.type == .result || last.type == .error {
                frames.withLock { $0.byCall[callID] = nil }
                return list
            }
            if closed { throw HarnessError("the connection closed before call \(callID) ended \(diagnostics())") }
            usleep(1000)
        }
        throw HarnessError("call \(callID) did not end within \(timeout) s \(diagnostics())")
    }

    /// The frames of `callID` received so far.
    func framesSoFar(callID: UInt32) -> [Frame] {
        frames.withLock { $0.byCall[callID] ?? [] }
    }

    /// The next frame of call id 0 (handshake, PONG, connection errors).
    func waitFrame(callID: UInt32, timeout: Double = 30) throws -> Frame {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let frame = frames.withLock { s -> Frame? in
                guard var list = s.byCall[callID], !list.isEmpty else { return nil }
                let first = list.removeFirst()
                s.byCall[callID] = list
                return first
            }
            if let frame { return frame }
            if frames.withLock({ $0.closed }) { throw HarnessError("the connection closed \(diagnostics())") }
            usleep(1000)
        }
        throw HarnessError("no frame for call \(callID) within \(timeout) s \(diagnostics())")
    }

    var connectionClosed: Bool { frames.withLock { $0.closed } }

    /// Waits for the tenant jail to end and returns how it ended.
    func waitExit(timeout: Double = 30) throws -> JailOutcome {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let done = outcome.withLock({ $0 }) { return done }
            usleep(2000)
        }
        throw HarnessError("the worker did not exit within \(timeout) s")
    }

    /// Ends the worker (EOF on its socket), waits for it and removes the workspace.
    func stop() {
        socket.shutdownBoth()
        _ = try? waitExit()
        close(socket.fd)
        if let egress { close(egress) }
        _ = umount2(workspace, Int32(MNT_DETACH))
        try? FileManager.default.removeItem(atPath: workspace)
    }

    func diagnostics() -> String {
        guard let done = outcome.withLock({ $0 }) else { return "" }
        return "(worker ended: \(done.result.status) \(done.result.message ?? "") exit \(done.result.exitCode.map(String.init) ?? "-"); stderr: \(String(decoding: done.stderr, as: UTF8.self)))"
    }

    /// The worker's host pid, found by the tag in its environment.
    func hostPID() -> Int32? {
        let needle = Array("WARDEN_WORKER_TAG=\(tag)".utf8)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry),
                  let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { continue }
            if environ.split(separator: 0).contains(where: { Array($0) == needle }) { return pid }
        }
        return nil
    }
}

enum TestPaths {
    static let packageRoot: String = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.path
    }()

    static var policies: String { packageRoot + "/policies" }

    /// warden-worker: $WARDEN_WORKER (to measure a release build), else the one built next to the test bundle.
    static let worker: String = {
        if let chosen = ProcessInfo.processInfo.environment["WARDEN_WORKER"], !chosen.isEmpty { return chosen }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("warden-worker").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("warden-worker").path
    }()
}
