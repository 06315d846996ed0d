import CSandbox
#if canImport(Glibc)
import Glibc
#endif

/// Watches one running jail: copies its output (up to the limit), feeds
/// stdin, and kills it when the wall time, CPU time or output limit is hit.
/// It owns (and closes) only the stdin writer; the output pipes stay with the
/// caller, who closes them once: closing a number twice could close another
/// run's descriptor that reused it.
struct Supervision {
    enum Kill: Equatable { case wall, cpu, output }

    let pidfd: Int32
    /// Readable (or closed) once the jail has ended.
    let ended: Int32
    var stdout: Int32
    var stderr: Int32
    var stdinWriter: Int32
    let limits: Limits
    let slot: CgroupSlot?
    let start: UInt64
    let keepOutput: Bool

    var pendingInput: [UInt8] = []
    private var inputOffset = 0
    private(set) var killedFor: Kill?
    private(set) var stdoutData: [UInt8] = []
    private(set) var stderrData: [UInt8] = []
    private(set) var stdoutBytes = 0
    private(set) var stderrBytes = 0

    var stdoutTruncated: Bool { stdoutBytes > limits.outputBytes }
    var stderrTruncated: Bool { stderrBytes > limits.outputBytes }

    init(pidfd: Int32, ended: Int32, stdout: Int32, stderr: Int32, stdinWriter: Int32, limits: Limits,
         slot: CgroupSlot?, start: UInt64, keepOutput: Bool) {
        self.pidfd = pidfd
        self.ended = ended
        self.stdout = stdout
        self.stderr = stderr
        self.stdinWriter = stdinWriter
        self.limits = limits
        self.slot = slot
        self.start = start
        self.keepOutput = keepOutput
        if stdinWriter >= 0 { _ = fcntl(stdinWriter, F_SETFL, fcntl(stdinWriter, F_GETFL) | O_NONBLOCK) }
    }

    mutating func run(onOutput: ((OutputStream, UnsafeRawBufferPointer) -> Void)?) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var exited = false
        var drainDeadline: UInt64 = .max
        let cores = max(0.05, limits.cpus ?? Double(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        while stdout >= 0 || stderr >= 0 || !exited {
            let now = Clock.now()
            if exited && now > drainDeadline { break }
            var timeout = exited ? 50 : checkInterval(now: now, cores: cores)
            if timeout == 0 {
                if enforceLimits(now: now) { timeout = 5 } else { timeout = checkInterval(now: Clock.now(), cores: cores) }
            }
            var polls = [pollfd(fd: exited ? -1 : ended, events: Int16(POLLIN), revents: 0),
                         pollfd(fd: stdout, events: Int16(POLLIN), revents: 0),
                         pollfd(fd: stderr, events: Int16(POLLIN), revents: 0),
                         pollfd(fd: stdinWriter, events: Int16(POLLOUT), revents: 0)]
            let n = poll(&polls, nfds_t(polls.count), Int32(clamping: timeout)) // -1: no deadline
            if n < 0 && errno != EINTR { break }
            if polls[0].revents != 0 {
                exited = true
                // Every writer in the jail is gone; what is buffered drains at once.
                drainDeadline = Clock.now() + 2_000_000_000
                closeInput()
            }
            if polls[1].revents != 0 { pump(.stdout, &buffer, onOutput) }
            if polls[2].revents != 0 { pump(.stderr, &buffer, onOutput) }
            if polls[3].revents != 0 { feedInput() }
        }
        stdout = -1
        stderr = -1
        closeInput()
    }

    /// Milliseconds until the next limit could be reached. CPU time cannot grow
    /// faster than `cores` per wall millisecond, so the check waits that long.
    private func checkInterval(now: UInt64, cores: Double) -> Int {
        var wait = Int.max
        if let wall = limits.wallTimeMs {
            let deadline = start + UInt64(wall) * 1_000_000
            wait = now >= deadline ? 0 : Int((deadline - now + 999_999) / 1_000_000)
        }
        if let cpu = limits.cpuTimeMs, let slot {
            let used = Double(slot.cpuNanoseconds()) / 1_000_000
            let left = Double(cpu) - used
            wait = min(wait, left <= 0 ? 0 : max(1, Int(left / cores)))
        }
        return wait == .max ? -1 : wait
    }

    /// Kills the jail when a limit is passed. Returns true when it did.
    private mutating func enforceLimits(now: UInt64) -> Bool {
        guard killedFor == nil else { return false }
        if let wall = limits.wallTimeMs, now >= start + UInt64(wall) * 1_000_000 {
            kill(.wall)
            return true
        }
        if let cpu = limits.cpuTimeMs, let slot, slot.cpuNanoseconds() >= UInt64(cpu) * 1_000_000 {
            kill(.cpu)
            return true
        }
        return false
    }

    private mutating func kill(_ reason: Kill) {
        if killedFor == nil { killedFor = reason }
        _ = wd_pidfd_signal(pidfd, SIGKILL)
    }

    private mutating func pump(_ stream: OutputStream, _ buffer: inout [UInt8],
                               _ onOutput: ((OutputStream, UnsafeRawBufferPointer) -> Void)?) {
        let fd = stream == .stdout ? stdout : stderr
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && (errno == EINTR || errno == EAGAIN) { return }
        if n <= 0 {
            if stream == .stdout { stdout = -1 } else { stderr = -1 }
            return
        }
        let already = stream == .stdout ? stdoutBytes : stderrBytes
        let room = max(0, limits.outputBytes - already)
        let kept = min(room, n)
        if kept > 0 {
            buffer.withUnsafeBytes { raw in
                let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<kept])
                onOutput?(stream, chunk)
                if keepOutput {
                    if stream == .stdout { stdoutData.append(contentsOf: chunk) } else { stderrData.append(contentsOf: chunk) }
                }
            }
        }
        if stream == .stdout { stdoutBytes += n } else { stderrBytes += n }
        if n > room && limits.killOnOutputLimit { kill(.output) }
    }

    private mutating func feedInput() {
        guard stdinWriter >= 0 else { return }
        if inputOffset >= pendingInput.count { closeInput(); return }
        let n = pendingInput.withUnsafeBytes { raw in
            write(stdinWriter, raw.baseAddress! + inputOffset, raw.count - inputOffset)
        }
        if n > 0 { inputOffset += n }
        if n < 0 && errno != EAGAIN && errno != EINTR { closeInput(); return }
        if inputOffset >= pendingInput.count { closeInput() }
    }

    private mutating func closeInput() {
        if stdinWriter >= 0 {
            close(stdinWriter)
            stdinWriter = -1
        }
    }
}
