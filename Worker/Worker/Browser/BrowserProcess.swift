#if canImport(Glibc)
import Glibc
#endif
import CWorker
import Sandbox
import WorkerProtocol

/// One Chromium in its jail and the DevTools connection to it. It ends when
/// its jail ends: stopped, crashed, or with the worker (the jail's parent-death
/// signal and the tenant's pid namespace take it along).
final class BrowserProcess: Sendable {
    let connection: CDPConnection
    /// The network namespace the browser runs in, on whose loopback each page's
    /// proxy listener is made; nil when it has a loopback-only one of its own.
    let network: NetworkNamespace?
    /// The browser cgroup's counters; nil without cgroups.
    let meter: CgroupMeter?
    /// How long the start took, to the first answer over the pipe.
    let startMs: Int
    private let cancellation: JailCancellation
    private let ending: Monitor<JailResult?>
    private let stderrTail: OutputTail

    /// How long Chromium may take to answer its first command.
    static let startTimeoutMs: Int64 = 30_000

    private init(connection: CDPConnection, network: NetworkNamespace?, meter: CgroupMeter?, startMs: Int,
                 cancellation: JailCancellation, ending: Monitor<JailResult?>, stderrTail: OutputTail) {
        self.connection = connection
        self.network = network
        self.meter = meter
        self.startMs = startMs
        self.cancellation = cancellation
        self.ending = ending
        self.stderrTail = stderrTail
    }

    /// Starts Chromium and waits until it answers over the pipe.
    static func start(_ spec: BrowserJail, jail: Jail, network: NetworkNamespace?,
                      keep: @escaping CDPConnection.EventFilter) throws(ErrorReply) -> BrowserProcess {
        let began = MonotonicClock.nowMs()
        guard access(spec.binary, X_OK) == 0 else {
            throw ErrorReply(.browserUnavailable, "Chromium is not installed at \(spec.binary) (Debian: apt-get install chromium-headless-shell)")
        }
        var commands: [Int32] = [-1, -1], events: [Int32] = [-1, -1]
        var rc = wk_pipe_cloexec(&commands)
        if rc == 0 {
            rc = wk_pipe_cloexec(&events)
            if rc < 0 { close(commands[0]); close(commands[1]) }
        }
        guard rc == 0 else { throw ErrorReply(.browserUnavailable, "no pipe for the browser: \(FileIO.errorText(-rc))") }
        // Chromium reads commands on its fd 3 and writes messages on its fd 4; the connection owns our ends.
        let (theirCommands, theirEvents) = (commands[0], events[1])
        let connection = CDPConnection(commandFd: commands[1], eventFd: events[0], keep: keep)
        let meter = try? jail.meter(cgroup: BrowserJail.cgroupName)
        let config = spec.configuration(commandFd: theirCommands, eventFd: theirEvents, cgroups: meter != nil,
                                        network: network)
        let cancellation = JailCancellation()
        let ending = Monitor<JailResult?>(nil)
        let stderrTail = OutputTail()
        let started = DetachedThread.start {
            let outcome = jail.run(config, keepOutput: false, cancellation: cancellation) { stream, bytes in
                if stream == .stderr { stderrTail.append(bytes) }
            }
            // Our copies of Chromium's ends go: the reader sees the end, writes fail.
            close(theirCommands)
            close(theirEvents)
            connection.close("the browser ended (\(Self.describe(outcome.result)))")
            ending.update { $0 = outcome.result }
        }
        guard started, connection.startReading() else {
            if !started { close(theirCommands); close(theirEvents) }
            cancellation.cancel()
            throw ErrorReply(.browserUnavailable, "the worker could not start a thread for the browser; the tenant may be at its process limit")
        }
        do {
            try connection.call("Browser.getVersion", NoParams(), deadlineMs: began + startTimeoutMs)
        } catch {
            cancellation.cancel()
            // How its jail ended says more than the closed pipe.
            let ended = ending.wait(untilMs: MonotonicClock.nowMs() + 2000) { $0 }
            let reason = ended.map { "the browser's jail ended (\(Self.describe($0)))" } ?? "\(error)"
            let detail = stderrTail.lastLines
            throw ErrorReply(.browserUnavailable, "the browser did not start: \(reason)\(detail.isEmpty ? "" : "; it said: \(detail)")")
        }
        return BrowserProcess(connection: connection, network: network, meter: meter, startMs: Int(MonotonicClock.nowMs() - began),
                              cancellation: cancellation, ending: ending, stderrTail: stderrTail)
    }

    /// A proxy listener for a new page, on the browser's loopback; nil when it has no network.
    func pageProxy() throws(ErrorReply) -> PageProxy? {
        guard let network else { return nil }
        do {
            let (fd, port) = try network.listen()
            return PageProxy(fd: fd, port: port)
        } catch {
            throw ErrorReply(.internal, "no proxy listener for the page: \(error)")
        }
    }

    /// Kills the browser's jail (every process in it) at once.
    func stop() {
        cancellation.cancel()
    }

    var hasEnded: Bool { ending.withLock { $0 != nil } }

    /// Waits until the jail has ended; false when it had not by the deadline.
    @discardableResult
    func waitUntilEnded(deadlineMs: Int64) -> Bool {
        ending.wait(untilMs: deadlineMs) { $0.map { _ in true } } ?? false
    }

    /// The end of what Chromium wrote on stderr, for errors that need a reason.
    var diagnostics: String { stderrTail.lastLines }

    private static func describe(_ result: JailResult) -> String {
        [result.status.rawValue, result.message].compactMap { $0 }.joined(separator: ": ")
    }
}
