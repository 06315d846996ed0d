import CSandbox
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A small process that outlives its caller and removes the caller's cgroups
/// when the caller ends, even by SIGKILL.
///
/// Why a process of its own: a jail's processes die with the process that
/// started them (PR_SET_PDEATHSIG and the pid namespace), but the cgroup
/// directories they ran in stay, and nothing inside a jail may remove them
/// (their parents belong to the host's root, and a cgroup cannot be removed
/// by a task inside it). A v1 `release_agent` would be host-global (one per
/// hierarchy, already claimed by init systems) and v2 has none; a janitor
/// works the same on both and touches nothing but its caller's directories.
public final class CgroupJanitor: Sendable {
    public let pid: Int32
    private let pidfd: Int32
    private let wakeFd: Int32
    private let ended = Mutex(false)
    private let timeoutMs: Int32

    /// - Parameters:
    ///   - parents: directories whose children named `prefix…` are removed.
    ///   - holding: descriptors the janitor keeps open until it is done (a lock
    ///     that tells a successor to wait for it).
    ///   - timeoutMs: how long to retry directories whose tasks are still leaving.
    public init(parents: [String], prefix: String, holding: [Int32] = [], timeoutMs: Int = 5000,
                title: String = "warden cgroup janitor") throws(SandboxError) {
        var pipe: [Int32] = [-1, -1]
        guard wd_pipe_cloexec(&pipe) == 0 else { throw SandboxError.system("pipe for the cgroup janitor", errno: errno) }
        let arena = CArena()
        var config = wd_janitor_config()
        config.parents = UnsafePointer(OpaquePointer(arena.stringArray(parents)))
        config.n_parents = parents.count
        config.prefix = UnsafePointer(arena.string(prefix))
        config.keep_fds = UnsafePointer(arena.array(holding))
        config.n_keep_fds = holding.count
        config.wake_fd = pipe[0]
        config.timeout_ms = Int32(clamping: timeoutMs)
        config.title = UnsafePointer(arena.string(title))
        var pidfd: Int32 = -1
        let pid = wd_janitor_spawn(&config, &pidfd)
        withExtendedLifetime(arena) {}
        close(pipe[0])
        guard pid > 0 else {
            close(pipe[1])
            throw SandboxError.system("start the cgroup janitor", errno: -pid)
        }
        self.pid = pid
        self.pidfd = pidfd
        self.timeoutMs = config.timeout_ms
        wakeFd = pipe[1]
    }

    /// Asks the janitor to clean up now and waits (by default a little longer
    /// than its timeout) for it to end. Returns whether it ended: false when a
    /// directory stayed busy, which it then removes once this process has ended.
    @discardableResult
    public func finish(waitMs: Int32? = nil) -> Bool {
        ended.withLock { ended in
            guard !ended else { return true }
            _ = write(wakeFd, "x", 1)
            ended = wd_pidfd_wait(pidfd, waitMs ?? timeoutMs + 1000) == 1
            // Reaped only once it has ended: its pid cannot have been reused before.
            if ended { _ = wd_reap(pid) }
            return ended
        }
    }

    deinit {
        finish(waitMs: 2000)
        close(wakeFd)
        close(pidfd)
    }
}
