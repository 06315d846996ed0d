/// How a jailed run ended, in the spirit of isolate's meta file.
public struct JailResult: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable {
        case ok
        case exitedNonzero = "exited_nonzero"
        case signaled
        case timeoutWall = "timeout_wall"
        case timeoutCPU = "timeout_cpu"
        case memoryExceeded = "memory_exceeded"
        case outputLimit = "output_limit"
        case seccompViolation = "seccomp_violation"
        case setupError = "setup_error"
    }

    public var status: Status
    public var exitCode: Int32?
    public var signal: Int32?
    public var signalName: String?
    /// The syscall a seccomp kill rule caught.
    public var syscall: String?
    /// What went wrong, for setup errors and limits.
    public var message: String?
    public var cpuUserMs: Double
    public var cpuSystemMs: Double
    public var wallMs: Double
    /// Of the wall time, how long the jail took to assemble before execve.
    public var setupMs: Double = 0
    public var memoryPeakBytes: Int?
    public var stdoutBytes: Int
    public var stderrBytes: Int
    public var stdoutTruncated: Bool
    public var stderrTruncated: Bool

    public var cpuMs: Double { cpuUserMs + cpuSystemMs }

    enum CodingKeys: String, CodingKey {
        case status, signal, syscall, message
        case exitCode = "exit_code"
        case signalName = "signal_name"
        case cpuUserMs = "cpu_user_ms"
        case cpuSystemMs = "cpu_sys_ms"
        case wallMs = "wall_ms"
        case setupMs = "setup_ms"
        case memoryPeakBytes = "memory_peak_bytes"
        case stdoutBytes = "stdout_bytes"
        case stderrBytes = "stderr_bytes"
        case stdoutTruncated = "stdout_truncated"
        case stderrTruncated = "stderr_truncated"
    }

    static func setupError(_ message: String, wallMs: Double = 0) -> JailResult {
        JailResult(status: .setupError, exitCode: nil, signal: nil, signalName: nil, syscall: nil,
                   message: message, cpuUserMs: 0, cpuSystemMs: 0, wallMs: wallMs, memoryPeakBytes: nil,
                   stdoutBytes: 0, stderrBytes: 0, stdoutTruncated: false, stderrTruncated: false)
    }

    /// The exit code a command-line runner should mirror: the payload's own,
    /// 128 + signal when signaled, 124 on a time limit (as timeout(1)), 125
    /// when the jail could not be set up.
    public var mirroredExitCode: Int32 {
        switch status {
        case .ok, .exitedNonzero: return exitCode ?? 1
        case .timeoutWall, .timeoutCPU: return 124
        case .setupError: return 125
        default: return 128 + (signal ?? 9)
        }
    }
}
