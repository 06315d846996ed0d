import Sandbox
import WorkerProtocol

/// The tenant's warm browser: started on the first call, stopped after
/// `idleMs` without one, started again after a crash. Each call gets a page
/// in a fresh browser context; one such page is made ahead (the spare), so a
/// call does not wait for a new renderer, and the used one is disposed off
/// the call's path.
final class BrowserHost: Sendable {
    private let spec: BrowserJail
    private let jail: Jail
    /// The way to the supervisor's egress proxy; nil: the browser has no network.
    private let egress: EgressBridge?
    private let idleMs: Int64
    private let state = Monitor(State())

    private struct State {
        var process: BrowserProcess?
        /// The last browser stopped, until it is known to have ended.
        var previous: BrowserProcess?
        var starting = false
        var spare: BrowserPage?
        var preparingSpare = false
        var calls = 0
        var lastUsedMs: Int64 = 0
    }

    /// What a call works with.
    struct Lease {
        let process: BrowserProcess
        let page: BrowserPage
        /// Set when this call started the browser.
        let startMs: Int?
    }

    static let disposeTimeoutMs: Int64 = 10_000

    init(spec: BrowserJail, jail: Jail, egress: EgressBridge?, idleMs: Int) {
        self.spec = spec
        self.jail = jail
        self.egress = egress
        self.idleMs = Int64(max(1000, idleMs))
    }

    /// A page for one call, on a running browser (started if needed). With
    /// `egressTag`, the page's proxy listener is served for the call's egress
    /// session under that tag; without, the page has no network.
    func lease(viewport: BrowserViewport, egressTag: String?, deadlineMs: Int64,
               cancellation: JailCancellation) throws(ErrorReply) -> Lease {
        if egressTag != nil, egress == nil {
            throw ErrorReply(.invalidLimit, "this worker has no egress channel: the supervisor runs without the egress proxy",
                             field: "network")
        }
        state.update { s in
            s.calls += 1
            s.lastUsedMs = MonotonicClock.nowMs()
        }
        do throws(ErrorReply) {
            // A browser that died since the last call may not be known as dead
            // yet: when it fails before this call did anything, try a new one.
            for attempt in 0..<2 {
                let (process, startMs) = try running(deadlineMs: deadlineMs)
                do throws(ErrorReply) {
                    let page = try page(on: process, viewport: viewport, deadlineMs: deadlineMs, cancellation: cancellation)
                    do throws(ErrorReply) {
                        if let egressTag, let egress, let proxy = page.proxy {
                            try proxy.lend(to: egress, tag: egressTag)
                        } else {
                            page.proxy?.close(bridge: nil)
                        }
                    } catch {
                        discard(page, of: process)
                        throw error
                    }
                    return Lease(process: process, page: page, startMs: startMs)
                } catch where error.code == .browserCrashed && startMs == nil && attempt == 0 {
                    retire(process)
                }
            }
            throw ErrorReply(.browserUnavailable, "the browser stopped twice before the call could use it")
        } catch {
            state.update { s in
                s.calls -= 1
                s.lastUsedMs = MonotonicClock.nowMs()
            }
            throw error
        }
    }

    /// The call is over: its context goes, and a spare is made for the next
    /// call. After a crash the browser is stopped; the next call starts another.
    func finish(_ lease: Lease, crashed: Bool) {
        state.update { s in
            s.calls -= 1
            s.lastUsedMs = MonotonicClock.nowMs()
        }
        if crashed {
            lease.page.proxy?.close(bridge: egress)
            retire(lease.process)
            return
        }
        discard(lease.page, of: lease.process, refill: true)
    }

    /// Disposes of a page off the caller's path, then makes the next spare.
    private func discard(_ page: BrowserPage, of process: BrowserProcess, refill again: Bool = false) {
        _ = DetachedThread.start { [self] in
            defer { page.proxy?.close(bridge: egress) }
            do {
                try page.dispose(deadlineMs: MonotonicClock.nowMs() + Self.disposeTimeoutMs)
            } catch {
                // A browser that cannot close a context is not one to keep.
                Log.line("browser: disposing a page failed (\(error)); restarting the browser")
                retire(process)
                return
            }
            if again { refill(process) }
        }
    }

    /// Stops the browser now (its pages and calls end with it).
    func retire(_ process: BrowserProcess) {
        let spare = state.update { s -> BrowserPage? in
            guard s.process === process else { return nil }
            s.process = nil
            s.previous = process
            defer { s.spare = nil }
            return s.spare
        }
        if let spare {
            process.connection.forget(session: spare.session)
            spare.proxy?.close(bridge: nil)
        }
        process.stop()
    }

    // MARK: the browser

    private func running(deadlineMs: Int64) throws(ErrorReply) -> (BrowserProcess, Int?) {
        // One call starts it; the others wait for that start.
        let found = state.wait(untilMs: deadlineMs) { s -> BrowserProcess?? in
            if let process = s.process, process.connection.closedReason == nil { return .some(process) }
            if s.starting { return nil }
            if let gone = s.process { s.previous = gone }
            s.process = nil
            s.spare = nil
            s.starting = true
            return .some(nil)
        }
        guard let found else {
            throw ErrorReply(.timeout, "the browser did not start within the call's timeout_ms")
        }
        if let process = found { return (process, nil) }
        let process: BrowserProcess
        do {
            process = try start()
        } catch {
            state.update { $0.starting = false }
            throw error
        }
        state.update { s in
            s.process = process
            s.starting = false
        }
        watchIdle(process)
        return (process, process.startMs)
    }

    private func start() throws(ErrorReply) -> BrowserProcess {
        // A browser that was stopped must be gone before the next takes its cgroup.
        if let previous = state.withLock({ $0.previous }) {
            previous.stop()
            previous.waitUntilEnded(deadlineMs: MonotonicClock.nowMs() + 5000)
            state.withLock { $0.previous = nil }
        }
        var network: NetworkNamespace?
        if egress != nil {
            do { network = try NetworkNamespace() } catch {
                throw ErrorReply(.browserUnavailable, "no network namespace for the browser: \(error)")
            }
        }
        return try BrowserProcess.start(spec, jail: jail, network: network, keep: BrowserPage.keepsEvent)
    }

    /// Stops the browser once it has had no call for `idleMs`.
    private func watchIdle(_ process: BrowserProcess) {
        let idleMs = self.idleMs
        _ = DetachedThread.start { [self] in
            while !process.hasEnded {
                MonotonicClock.sleep(ms: Int(min(1000, idleMs / 4)))
                let idle = state.withLock { s in
                    s.process === process && s.calls == 0 && !s.preparingSpare
                        && MonotonicClock.nowMs() - s.lastUsedMs >= idleMs
                }
                if idle {
                    Log.line("browser: stopping after \(idleMs / 1000) s without a call")
                    retire(process)
                }
                if state.withLock({ $0.process !== process }) {
                    process.stop()
                    break
                }
            }
        }
    }

    // MARK: pages

    private func page(on process: BrowserProcess, viewport: BrowserViewport, deadlineMs: Int64,
                      cancellation: JailCancellation) throws(ErrorReply) -> BrowserPage {
        // A spare being made is further along than a page this call would start now.
        let spare = state.wait(untilMs: deadlineMs) { s -> BrowserPage?? in
            guard s.process === process else { return .some(nil) }
            if let spare = s.spare {
                s.spare = nil
                return .some(spare)
            }
            return s.preparingSpare ? nil : .some(nil)
        }
        if let spare = spare ?? nil {
            // A browser killed since the spare was made may not be known as dead yet: ask it.
            do { try process.connection.call("Browser.getVersion", NoParams(), deadlineMs: deadlineMs) } catch {
                throw BrowserErrors.reply(error, while: "checking the browser", timeoutMs: nil)
            }
            if spare.viewport != viewport {
                do { try spare.apply(viewport, deadlineMs: deadlineMs, cancellation: cancellation) } catch {
                    discard(spare, of: process)
                    throw BrowserErrors.reply(error, while: "sizing the page", timeoutMs: nil)
                }
            }
            return spare
        }
        let proxy = try process.pageProxy()
        do {
            return try BrowserPage.open(on: process.connection, viewport: viewport, proxy: proxy, deadlineMs: deadlineMs)
        } catch {
            proxy?.close(bridge: nil)
            throw BrowserErrors.reply(error, while: "opening a page", timeoutMs: nil)
        }
    }

    /// Makes the next call's page ahead of it.
    private func refill(_ process: BrowserProcess) {
        let go = state.update { s -> Bool in
            guard s.process === process, s.spare == nil, !s.preparingSpare else { return false }
            s.preparingSpare = true
            return true
        }
        guard go else { return }
        let page = try? BrowserPage.open(on: process.connection, viewport: .standard, proxy: process.pageProxy(),
                                         deadlineMs: MonotonicClock.nowMs() + Self.disposeTimeoutMs)
        let unused = state.update { s -> BrowserPage? in
            s.preparingSpare = false
            guard s.process === process, s.spare == nil else { return page }
            s.spare = page
            return nil
        }
        if let unused {
            try? unused.dispose(deadlineMs: MonotonicClock.nowMs() + Self.disposeTimeoutMs)
            unused.proxy?.close(bridge: nil)
        }
    }
}
