import Foundation

/// One limit of a plan: a hard limit refuses what would pass it, a soft one
/// allows it and warns.
public struct Limit: Codable, Sendable, Equatable {
    public var limit: Double
    public var hard: Bool

    public init(_ limit: Double, hard: Bool = true) {
        self.limit = limit
        self.hard = hard
    }
}

/// What a tenant may do and how much: the tools it may call, and a limit per
/// metric (a metric without one is unlimited). Policies see plans as `data.plans`.
public struct Plan: Codable, Sendable, Equatable {
    public var name: String
    public var tools: [String]
    public var network: Bool
    /// Tools whose calls wait for an operator's approval.
    public var approvalTools: [String]
    /// Calendar periods roll over at midnight of this time zone.
    public var timeZone: String
    public var limits: [String: Limit]
    public var createdAt: Date?
    public var updatedAt: Date?

    public init(name: String, tools: [String], network: Bool, approvalTools: [String] = [], timeZone: String = "UTC",
                limits: [String: Limit], createdAt: Date? = nil, updatedAt: Date? = nil) {
        self.name = name
        self.tools = tools
        self.network = network
        self.approvalTools = approvalTools
        self.timeZone = timeZone
        self.limits = limits
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case name, tools, network, limits
        case approvalTools = "approval_tools"
        case timeZone = "time_zone"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// A plan names single tools, or `browser` for all four browser tools.
    public static let knownTools = ["exec", "files.list", "files.read", "files.write", "files.delete", "browser",
                                    "browser.content", "browser.screenshot", "browser.pdf", "browser.evaluate", "fetch"]

    /// Refuses what cannot be enforced: unknown metrics or tools, negative or
    /// non-finite limits, a time zone the system does not know.
    public func validate() throws {
        try Tenant.validate(plan: name)
        for (metric, limit) in limits {
            guard let spec = Metric.catalog[metric] else {
                let known = Metric.catalog.keys.sorted().joined(separator: ", ")
                throw StoreError.invalid("unknown metric '\(metric)'; known metrics: \(known)")
            }
            guard limit.limit.isFinite, limit.limit >= 0 else {
                throw StoreError.invalid("the limit of \(metric) must be a finite number ≥ 0, got \(limit.limit)")
            }
            if spec.kind == .ceiling && !limit.hard {
                throw StoreError.invalid("\(metric) is a ceiling of each call; it can only be a hard limit")
            }
        }
        for tool in tools + approvalTools where !Self.knownTools.contains(tool) {
            throw StoreError.invalid("unknown tool '\(tool)'; known tools: \(Self.knownTools.joined(separator: ", "))")
        }
        guard TimeZone(identifier: timeZone) != nil else {
            throw StoreError.invalid("unknown time zone '\(timeZone)'; use an IANA name such as UTC or Europe/Paris")
        }
    }

    /// The plans a new store starts with; operators edit them with `warden plan`.
    public static let defaults: [Plan] = {
        let mib = 1024.0 * 1024, gib = 1024.0 * mib
        let allFiles = ["files.list", "files.read", "files.write", "files.delete"]
        return [
            Plan(name: "free", tools: ["exec", "fetch"] + allFiles, network: false, limits: [
                "exec.calls.day": Limit(100), "exec.calls.month": Limit(1000), "files.calls.day": Limit(2000),
                "fetch.calls.month": Limit(500), "cpu.seconds.month": Limit(600), "wall.seconds.month": Limit(3600, hard: false),
                "browser.sessions.month": Limit(10), "egress.bytes.month": Limit(100 * mib), "storage.bytes": Limit(100 * mib),
                "concurrent.calls": Limit(2), "call.timeout_ms": Limit(10_000), "call.cpu_ms": Limit(10_000),
                "call.memory_mb": Limit(256), "call.output_bytes": Limit(mib),
                "tenant.memory_mb": Limit(512), "tenant.pids": Limit(128), "tenant.cpus": Limit(0.5),
            ]),
            Plan(name: "creator", tools: ["exec", "fetch"] + allFiles, network: true, limits: [
                "exec.calls.day": Limit(2000), "files.calls.day": Limit(20_000), "cpu.seconds.month": Limit(36_000),
                "wall.seconds.month": Limit(360_000, hard: false), "browser.sessions.month": Limit(100),
                "egress.bytes.month": Limit(10 * gib), "storage.bytes": Limit(5 * gib), "concurrent.calls": Limit(4),
                "call.timeout_ms": Limit(30_000), "call.cpu_ms": Limit(30_000), "call.memory_mb": Limit(512),
                "call.output_bytes": Limit(4 * mib), "tenant.memory_mb": Limit(1024), "tenant.pids": Limit(256),
                "tenant.cpus": Limit(1),
            ]),
            Plan(name: "pro", tools: ["exec", "fetch", "browser"] + allFiles, network: true, limits: [
                "exec.calls.day": Limit(50_000), "cpu.seconds.month": Limit(360_000, hard: false),
                "egress.bytes.month": Limit(100 * gib), "storage.bytes": Limit(25 * gib), "concurrent.calls": Limit(16),
                "call.timeout_ms": Limit(120_000), "call.cpu_ms": Limit(120_000), "call.memory_mb": Limit(2048),
                "call.output_bytes": Limit(8 * mib), "tenant.memory_mb": Limit(4096), "tenant.pids": Limit(512),
                "tenant.cpus": Limit(2),
            ]),
        ]
    }()
}
