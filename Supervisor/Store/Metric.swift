/// The metrics Warden meters and limits, named as policies and reports see them.
///
/// - counters add up over a calendar period (`exec.calls.day`, `cpu.seconds.month`);
/// - gauges are a level now (`storage.bytes`, `concurrent.calls`);
/// - ceilings bound one call or the tenant's jail (`call.timeout_ms`, `tenant.memory_mb`).
public enum Metric {
    public enum Kind: String, Sendable, Codable {
        case counter
        case gauge
        case ceiling
    }

    public enum Period: String, Sendable, Codable {
        case day
        case month
    }

    public struct Spec: Sendable, Equatable {
        public var name: String
        public var kind: Kind
        public var period: Period?
        public var unit: String
        public var summary: String
    }

    /// Tool families counted per call: `files.read` counts as a `files` call.
    public static let toolFamilies = ["exec", "files", "browser", "fetch"]

    public static func family(ofTool tool: String) -> String {
        String(tool.split(separator: ".").first ?? Substring(tool))
    }

    public static func calls(_ family: String, _ period: Period) -> String { "\(family).calls.\(period.rawValue)" }

    public static let cpuSeconds = "cpu.seconds.month"
    public static let wallSeconds = "wall.seconds.month"
    public static let browserSessions = "browser.sessions.month"
    public static let egressBytes = "egress.bytes.month"
    public static let storageBytes = "storage.bytes"
    public static let concurrentCalls = "concurrent.calls"
    public static let callTimeoutMs = "call.timeout_ms"
    public static let callCpuMs = "call.cpu_ms"
    public static let callMemoryMB = "call.memory_mb"
    public static let callOutputBytes = "call.output_bytes"
    public static let tenantMemoryMB = "tenant.memory_mb"
    public static let tenantPids = "tenant.pids"
    public static let tenantCpus = "tenant.cpus"

    public static let catalog: [String: Spec] = {
        var specs: [Spec] = []
        for family in toolFamilies {
            for period in [Period.day, .month] {
                specs.append(Spec(name: calls(family, period), kind: .counter, period: period, unit: "calls",
                                  summary: "\(family) calls per \(period.rawValue)"))
            }
        }
        specs += [
            Spec(name: cpuSeconds, kind: .counter, period: .month, unit: "seconds", summary: "CPU time of calls"),
            Spec(name: wallSeconds, kind: .counter, period: .month, unit: "seconds", summary: "wall time of calls"),
            Spec(name: browserSessions, kind: .counter, period: .month, unit: "sessions", summary: "browser sessions"),
            Spec(name: egressBytes, kind: .counter, period: .month, unit: "bytes", summary: "bytes sent and received through the egress proxy"),
            Spec(name: storageBytes, kind: .gauge, period: nil, unit: "bytes", summary: "bytes in the workspace"),
            Spec(name: concurrentCalls, kind: .gauge, period: nil, unit: "calls", summary: "calls running at once"),
            Spec(name: callTimeoutMs, kind: .ceiling, period: nil, unit: "ms", summary: "timeout_ms of one call"),
            Spec(name: callCpuMs, kind: .ceiling, period: nil, unit: "ms", summary: "cpu_ms of one call"),
            Spec(name: callMemoryMB, kind: .ceiling, period: nil, unit: "MiB", summary: "memory_mb of one call"),
            Spec(name: callOutputBytes, kind: .ceiling, period: nil, unit: "bytes", summary: "output_bytes of one call"),
            Spec(name: tenantMemoryMB, kind: .ceiling, period: nil, unit: "MiB", summary: "memory of the tenant's jail, worker and calls together"),
            Spec(name: tenantPids, kind: .ceiling, period: nil, unit: "processes", summary: "processes of the tenant's jail"),
            Spec(name: tenantCpus, kind: .ceiling, period: nil, unit: "cores", summary: "CPU bandwidth of the tenant's jail"),
        ]
        return Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })
    }()
}
