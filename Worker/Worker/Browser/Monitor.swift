#if canImport(Glibc)
import Glibc
#endif

/// State shared between threads, with a condition to wait on: one thread
/// changes the state and wakes the others, which wait until what they need is
/// there or a monotonic deadline passes.
final class Monitor<State>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var state: State

    init(_ state: State) {
        self.state = state
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }

    /// Changes the state and wakes every waiter.
    func update<R>(_ body: (inout State) -> R) -> R {
        pthread_mutex_lock(mutex)
        defer {
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
        return body(&state)
    }

    /// Calls `body` until it returns a value, waiting for a change between
    /// tries; nil once `deadlineMs` (CLOCK_MONOTONIC) has passed.
    func wait<R, E: Error>(untilMs deadlineMs: Int64, _ body: (inout State) throws(E) -> R?) throws(E) -> R? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        var deadline = timespec(tv_sec: Int(deadlineMs / 1000), tv_nsec: Int(deadlineMs % 1000) * 1_000_000)
        while true {
            if let value = try body(&state) { return value }
            if MonotonicClock.nowMs() >= deadlineMs { return nil }
            _ = pthread_cond_timedwait(condition, mutex, &deadline)
        }
    }
}
