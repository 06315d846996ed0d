import Sandbox
import Synchronization

/// The calls in flight, by call id. An id is free again as soon as its last
/// frame is about to go out; the thread is counted until it has written it,
/// so a shutdown never exits before a result is sent.
final class CallRegistry: Sendable {
    enum Admission { case admitted(JailCancellation), busy, duplicate, closed }

    private struct State {
        var calls: [UInt32: JailCancellation] = [:]
        /// Calls that do not count against maxCalls (the supervisor's own bookkeeping).
        var uncounted: Set<UInt32> = []
        var threads = 0
        var closed = false
        /// Calls cancelled because the worker is going away, not by the caller.
        var cancelledForShutdown: Set<UInt32> = []
    }

    private let state = Mutex(State())
    let maxCalls: Int

    init(maxCalls: Int) {
        self.maxCalls = maxCalls
    }

    /// `counted: false` for the supervisor's own measurements, which must
    /// never take the place of a tenant's call.
    func admit(_ id: UInt32, counted: Bool = true) -> Admission {
        state.withLock { s in
            if s.closed { return .closed }
            if s.calls[id] != nil { return .duplicate }
            // Counted by calls, not threads: a call whose result is on its way
            // out has freed its place, so the caller's next call is never refused.
            if counted && s.calls.count - s.uncounted.count >= maxCalls { return .busy }
            let cancellation = JailCancellation()
            s.calls[id] = cancellation
            if !counted { s.uncounted.insert(id) }
            s.threads += 1
            return .admitted(cancellation)
        }
    }

    /// The call's id is free; returns whether it was cancelled for a shutdown.
    func release(_ id: UInt32) -> Bool {
        state.withLock { s in
            s.calls[id] = nil
            s.uncounted.remove(id)
            return s.cancelledForShutdown.remove(id) != nil
        }
    }

    /// The call's thread has sent its last frame.
    func threadFinished() {
        state.withLock { $0.threads -= 1 }
    }

    func cancel(_ id: UInt32) {
        state.withLock { s in s.calls[id] }?.cancel()
    }

    /// Refuses new calls from now on.
    func close() {
        state.withLock { $0.closed = true }
    }

    func cancelAll() {
        let all = state.withLock { s -> [JailCancellation] in
            s.cancelledForShutdown.formUnion(s.calls.keys)
            return Array(s.calls.values)
        }
        for cancellation in all { cancellation.cancel() }
    }

    var running: Int { state.withLock { $0.threads } }

    /// Waits until no call thread is left or `deadlineMs` (monotonic) passes.
    @discardableResult
    func waitUntilIdle(deadlineMs: Int64) -> Bool {
        while running > 0 {
            if MonotonicClock.nowMs() >= deadlineMs { return false }
            MonotonicClock.sleep(ms: 5)
        }
        return true
    }
}
