import FoundationEssentials
import Sandbox
import WorkerProtocol

/// The `browser.*` tools: load a page in a fresh context of the tenant's warm
/// browser, wait as asked, and take its content, a screenshot, a PDF or the
/// value of some JavaScript. The body goes out in STDOUT frames, then a
/// RESULT with what the call used.
final class BrowserTool: Sendable {
    private let host: BrowserHost?
    private let memoryBytes: Int?
    private let socket: FrameSocket

    init(host: BrowserHost?, memoryBytes: Int?, socket: FrameSocket) {
        self.host = host
        self.memoryBytes = memoryBytes
        self.socket = socket
    }

    func run(_ tool: Tool, _ args: BrowserArgs, callID: UInt32, cancellation: JailCancellation) throws(ErrorReply) -> Frame {
        guard let host else {
            throw ErrorReply(.browserUnavailable, "this worker has no browser: the supervisor found no Chromium to give it")
        }
        try args.validate(for: tool)
        let began = MonotonicClock.nowMs()
        let timeoutMs = args.timeoutMs ?? BrowserLimits.defaultTimeoutMs
        let deadline = began + Int64(timeoutMs)
        let lease = try host.lease(viewport: args.viewport ?? .standard,
                                   egressTag: args.network == true ? EgressTag.call(callID) : nil,
                                   deadlineMs: deadline, cancellation: cancellation)
        let leased = MonotonicClock.nowMs()
        let before = lease.process.meter?.read()
        var crashed = false
        defer { host.finish(lease, crashed: crashed) }
        let page = PageWork(page: lease.page, args: args, timeoutMs: timeoutMs, deadlineMs: deadline, cancellation: cancellation)
        let body: (contentType: String, bytes: [UInt8])
        let loaded: BrowserPage.Loaded
        var loadedAt = leased
        do {
            loaded = try page.load()
            loadedAt = MonotonicClock.nowMs()
            body = try page.produce(tool, loaded: loaded)
        } catch {
            guard error.code == .browserCrashed else { throw error }
            crashed = true
            let after = lease.process.meter?.read()
            if let before, let after, after.oomKills > before.oomKills { throw BrowserErrors.memory(limitBytes: memoryBytes) }
            throw error
        }
        let worked = MonotonicClock.nowMs()
        try send(body.bytes, callID: callID)
        let after = lease.process.meter?.read()
        let cpuNs = (after?.cpuNanoseconds ?? 0) &- (before?.cpuNanoseconds ?? 0)
        return try ToolRunner.resultFrame(BrowserResult(contentType: body.contentType, bytes: body.bytes.count, url: loaded.url,
                                                        httpStatus: loaded.httpStatus,
                                                        wallMs: Int(MonotonicClock.nowMs() - began),
                                                        cpuMs: Int(cpuNs / 1_000_000), memoryPeakBytes: after?.peakBytes,
                                                        browserStartMs: lease.startMs, pageMs: Int(leased - began),
                                                        loadMs: Int(loadedAt - leased), workMs: Int(worked - loadedAt)),
                                          callID: callID)
    }

    private func send(_ bytes: [UInt8], callID: UInt32) throws(ErrorReply) {
        do { try socket.write(.stdout, callID: callID, chunking: bytes) } catch {
            throw ErrorReply(.internal, "the supervisor stopped reading: \(error)")
        }
    }
}
