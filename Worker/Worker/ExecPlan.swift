import WorkerProtocol

/// An `exec` call's arguments, checked: the language's interpreter, the limits
/// with defaults filled in, stdin and files decoded. The supervisor checks the
/// plan's ceilings before it sends a call; these bounds only refuse nonsense.
struct ExecPlan {
    var language: Language
    var code: String
    var arguments: [String]
    var stdin: [UInt8]
    var files: [(path: WorkspacePath, bytes: [UInt8])]
    var timeoutMs: Int
    var cpuMs: Int?
    var memoryBytes: Int
    var outputBytes: Int
    var stream: Bool
    /// A network namespace of its own, with the egress proxy on its loopback.
    var network: Bool

    static let defaultTimeoutMs = 10_000
    static let defaultMemoryMb = 256
    static let defaultOutputBytes = 1 << 20
    static let maxTimeMs = 24 * 3_600_000
    static let maxMemoryMb = 1 << 20
    static let maxOutputBytes = 1 << 30
    static let maxArguments = 4096
    static let maxFiles = 1000

    init(_ args: ExecArgs) throws(ErrorReply) {
        guard let language = Language(rawValue: args.language) else {
            throw ErrorReply(.invalidRequest, "unknown language \"\(args.language)\"; use python, node or bash")
        }
        self.language = language
        code = args.code
        arguments = args.args ?? []
        guard arguments.count <= Self.maxArguments else {
            throw ErrorReply(.invalidRequest, "args holds \(arguments.count) arguments; at most \(Self.maxArguments)")
        }
        if let bad = arguments.firstIndex(where: { $0.utf8.contains(0) }) {
            throw ErrorReply(.invalidRequest, "args[\(bad)] contains a NUL byte")
        }
        stdin = Array((args.stdin ?? "").utf8)
        timeoutMs = try Self.limit(args.timeoutMs, "timeout_ms", default: Self.defaultTimeoutMs, in: 1...Self.maxTimeMs, unit: "ms")
        cpuMs = try args.cpuMs.map { v throws(ErrorReply) in try Self.limit(v, "cpu_ms", default: v, in: 1...Self.maxTimeMs, unit: "ms") }
        memoryBytes = try Self.limit(args.memoryMb, "memory_mb", default: Self.defaultMemoryMb, in: 1...Self.maxMemoryMb, unit: "MiB") << 20
        outputBytes = try Self.limit(args.outputBytes, "output_bytes", default: Self.defaultOutputBytes, in: 0...Self.maxOutputBytes, unit: "bytes")
        stream = args.stream ?? false
        network = args.network ?? false

        let given = args.files ?? []
        guard given.count <= Self.maxFiles else {
            throw ErrorReply(.invalidRequest, "files holds \(given.count) entries; at most \(Self.maxFiles)")
        }
        var files: [(path: WorkspacePath, bytes: [UInt8])] = []
        for (index, file) in given.enumerated() {
            let path = try WorkspacePath(file.path, field: "files[\(index)].path")
            let bytes = try ContentEncoding.decode(file.content, encoding: file.encoding, field: "files[\(index)]")
            files.append((path, bytes))
        }
        self.files = files
    }

    private static func limit(_ value: Int?, _ field: String, default fallback: Int,
                              in range: ClosedRange<Int>, unit: String) throws(ErrorReply) -> Int {
        let v = value ?? fallback
        guard range.contains(v) else {
            throw ErrorReply(.invalidLimit, "\(field) is \(v); it must lie between \(range.lowerBound) and \(range.upperBound) \(unit)",
                             field: field)
        }
        return v
    }
}
