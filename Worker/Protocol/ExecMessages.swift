/// A file `exec` writes into the workspace before the code runs.
public struct ExecFile: Sendable, Codable, Equatable {
    public var path: String
    public var content: String
    /// "utf8" (the default) or "base64".
    public var encoding: String?

    public init(path: String, content: String, encoding: String? = nil) {
        self.path = path
        self.content = content
        self.encoding = encoding
    }
}

/// The arguments of the `exec` tool. Absent limits take the worker's defaults.
public struct ExecArgs: Sendable, Codable, Equatable {
    public var language: String
    public var code: String
    public var stdin: String?
    public var args: [String]?
    public var files: [ExecFile]?
    public var timeoutMs: Int?
    public var cpuMs: Int?
    public var memoryMb: Int?
    public var outputBytes: Int?
    /// Send stdout and stderr as STDOUT/STDERR frames while the code runs.
    public var stream: Bool?
    /// A network namespace of the call's own with the egress proxy on its loopback (127.0.0.1:3128).
    public var network: Bool?

    public init(language: String, code: String, stdin: String? = nil, args: [String]? = nil,
                files: [ExecFile]? = nil, timeoutMs: Int? = nil, cpuMs: Int? = nil, memoryMb: Int? = nil,
                outputBytes: Int? = nil, stream: Bool? = nil, network: Bool? = nil) {
        self.language = language
        self.code = code
        self.stdin = stdin
        self.args = args
        self.files = files
        self.timeoutMs = timeoutMs
        self.cpuMs = cpuMs
        self.memoryMb = memoryMb
        self.outputBytes = outputBytes
        self.stream = stream
        self.network = network
    }

    enum CodingKeys: String, CodingKey {
        case language, code, stdin, args, files, stream, network
        case timeoutMs = "timeout_ms"
        case cpuMs = "cpu_ms"
        case memoryMb = "memory_mb"
        case outputBytes = "output_bytes"
    }
}

/// The RESULT of an `exec` call. `stdout`/`stderr` are absent when the call
/// streamed them; their encoding is "utf8" or "base64" (output that is not UTF-8).
public struct ExecResult: Sendable, Codable, Equatable {
    /// ok, exited_nonzero, signaled, timeout_wall, timeout_cpu, memory_exceeded,
    /// output_limit, seccomp_violation.
    public var status: String
    public var exitCode: Int32?
    public var signal: Int32?
    public var stdout: String?
    public var stderr: String?
    public var stdoutEncoding: String?
    public var stderrEncoding: String?
    public var stdoutTruncated: Bool
    public var stderrTruncated: Bool
    public var cpuMs: Int
    public var wallMs: Int
    public var memoryPeakBytes: Int?
    public var message: String?
    /// The syscall that a seccomp kill rule caught.
    public var syscall: String?

    public init(status: String, exitCode: Int32? = nil, signal: Int32? = nil, stdout: String? = nil,
                stderr: String? = nil, stdoutEncoding: String? = nil, stderrEncoding: String? = nil,
                stdoutTruncated: Bool = false, stderrTruncated: Bool = false, cpuMs: Int = 0, wallMs: Int = 0,
                memoryPeakBytes: Int? = nil, message: String? = nil, syscall: String? = nil) {
        self.status = status
        self.exitCode = exitCode
        self.signal = signal
        self.stdout = stdout
        self.stderr = stderr
        self.stdoutEncoding = stdoutEncoding
        self.stderrEncoding = stderrEncoding
        self.stdoutTruncated = stdoutTruncated
        self.stderrTruncated = stderrTruncated
        self.cpuMs = cpuMs
        self.wallMs = wallMs
        self.memoryPeakBytes = memoryPeakBytes
        self.message = message
        self.syscall = syscall
    }

    enum CodingKeys: String, CodingKey {
        case status, signal, stdout, stderr, message, syscall
        case exitCode = "exit_code"
        case stdoutEncoding = "stdout_encoding"
        case stderrEncoding = "stderr_encoding"
        case stdoutTruncated = "stdout_truncated"
        case stderrTruncated = "stderr_truncated"
        case cpuMs = "cpu_ms"
        case wallMs = "wall_ms"
        case memoryPeakBytes = "memory_peak_bytes"
    }

    /// exit_code, signal and memory_peak_bytes are always present (null when unknown).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(status, forKey: .status)
        try c.encode(exitCode, forKey: .exitCode)
        try c.encode(signal, forKey: .signal)
        try c.encodeIfPresent(stdout, forKey: .stdout)
        try c.encodeIfPresent(stderr, forKey: .stderr)
        try c.encodeIfPresent(stdoutEncoding, forKey: .stdoutEncoding)
        try c.encodeIfPresent(stderrEncoding, forKey: .stderrEncoding)
        try c.encode(stdoutTruncated, forKey: .stdoutTruncated)
        try c.encode(stderrTruncated, forKey: .stderrTruncated)
        try c.encode(cpuMs, forKey: .cpuMs)
        try c.encode(wallMs, forKey: .wallMs)
        try c.encode(memoryPeakBytes, forKey: .memoryPeakBytes)
        try c.encodeIfPresent(message, forKey: .message)
        try c.encodeIfPresent(syscall, forKey: .syscall)
    }
}
