#if canImport(Glibc)
import Glibc
#endif

/// A thread that lives as long as the process, for work that changes the
/// namespaces of the thread doing it (a network namespace being made) or
/// clones a child that must outlive the call that asked for it (an armed
/// jail, whose parent-death signal follows its cloning thread), and must not
/// happen on pool threads that may retire meanwhile.
final class SpawnThread: @unchecked Sendable {
    static let shared = SpawnThread()

    private final class Job: @unchecked Sendable {
        let body: () -> Void
        var done = false
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    private var finished = pthread_cond_t()
    private var queue: [Job] = []

    private init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
        pthread_cond_init(&finished, nil)
        var thread = pthread_t()
        let me = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { arg in
            guard let arg else { return nil }
            Unmanaged<SpawnThread>.fromOpaque(arg).takeUnretainedValue().loop()
            return nil
        }, me)
        precondition(rc == 0, "cannot start the spawn thread: \(rc)")
        pthread_detach(thread)
    }

    /// Runs `body` on the spawn thread and waits for it.
    func perform(_ body: () -> Void) {
        withoutActuallyEscaping(body) { escapable in
            let job = Job(escapable)
            pthread_mutex_lock(&mutex)
            queue.append(job)
            pthread_cond_signal(&wake)
            while !job.done { pthread_cond_wait(&finished, &mutex) }
            pthread_mutex_unlock(&mutex)
        }
    }

    /// Queues `body` to run on the spawn thread, without waiting for it.
    func submit(_ body: @escaping @Sendable () -> Void) {
        pthread_mutex_lock(&mutex)
        queue.append(Job(body))
        pthread_cond_signal(&wake)
        pthread_mutex_unlock(&mutex)
    }

    private func loop() {
        pthread_mutex_lock(&mutex)
        while true {
            while queue.isEmpty { pthread_cond_wait(&wake, &mutex) }
            let job = queue.removeFirst()
            pthread_mutex_unlock(&mutex)
            job.body()
            pthread_mutex_lock(&mutex)
            job.done = true
            pthread_cond_broadcast(&finished)
        }
    }
}
