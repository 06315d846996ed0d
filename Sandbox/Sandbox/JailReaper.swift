import CSandbox
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Reaps jails whose payload has ended but whose init is still exiting.
///
/// A jail's init reports how the payload ended and only then exits; its exit
/// (the copied address space, the mount and pid namespaces) takes a fraction
/// of a millisecond more. A run's result does not wait for that: the init is
/// handed over here, reaped on this thread, and its cgroup slot goes back to
/// the pool only then, so no other run shares a cgroup with it.
final class JailReaper: Sendable {
    /// One for the process: its thread lives as long as the process.
    static let shared: JailReaper? = try? JailReaper()

    private struct Pending {
        var pid: Int32
        var pidfd: Int32
        var done: @Sendable () -> Void
    }

    private let pending = Mutex<[Pending]>([])
    private let wakeRead: Int32
    private let wakeWrite: Int32

    private init() throws(SandboxError) {
        var pipe: [Int32] = [-1, -1]
        guard wd_pipe_cloexec(&pipe) == 0 else { throw SandboxError.system("pipe for the jail reaper", errno: errno) }
        wakeRead = pipe[0]
        wakeWrite = pipe[1]
        let started = DetachedThread.start { [self] in loop() }
        guard started else {
            close(wakeRead)
            close(wakeWrite)
            throw SandboxError.system("start the jail reaper thread", errno: EAGAIN)
        }
    }

    /// Takes over `pidfd` (closed here) and runs `done` once the process is reaped.
    func reap(pid: Int32, pidfd: Int32, then done: @escaping @Sendable () -> Void) {
        pending.withLock { $0.append(Pending(pid: pid, pidfd: pidfd, done: done)) }
        _ = write(wakeWrite, "r", 1)
    }

    private func loop() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let waiting = pending.withLock { $0 }
            var polls = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
                + waiting.map { pollfd(fd: $0.pidfd, events: Int16(POLLIN), revents: 0) }
            if poll(&polls, nfds_t(polls.count), -1) < 0 { continue }
            if polls[0].revents != 0 { _ = read(wakeRead, &buffer, buffer.count) }
            for (index, entry) in waiting.enumerated() where polls[index + 1].revents != 0 {
                _ = wd_reap(entry.pid)
                close(entry.pidfd)
                pending.withLock { list in list.removeAll { $0.pidfd == entry.pidfd } }
                entry.done()
            }
        }
    }
}
