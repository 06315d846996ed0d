import Logging
import Store

/// Everything `warden serve` can be told, with the defaults a developer gets.
///
/// Values come in layers (see `ConfigurationLayer`): defaults, then the TOML
/// file, then `WARDEN_…` environment variables, then command-line flags; a
/// later layer wins.
public struct SupervisorConfiguration: Sendable, Equatable {
    public var stateDirectory = "./var"
    /// The system of record: SQLite in the state directory, or PostgreSQL.
    public var store: StoreLocation = .sqlite
    public var host = "127.0.0.1"
    /// 0 asks the kernel for a free port (tests).
    public var port = 8080
    public var maxBodyBytes = 8 * 1024 * 1024
    public var idleTimeoutSeconds: Double = 60
    public var logFormat: LogFormat = .text
    public var logLevel: Logger.Level = .info
    /// How long in-flight requests may take to finish after SIGTERM/SIGINT.
    public var shutdownGraceSeconds: Double = 30
    public var hostIDBase: Int64 = 200_000
    public var hostIDCount: Int64 = 65_536
    /// The worker executable; nil = `warden-worker` beside `warden`.
    public var workerBinary: String?
    /// A worker with no call for this long is stopped (it starts again on the next call).
    public var workerIdleSeconds: Double = 300
    public var workerMaxCalls = 16
    /// The tenant cgroup's ceiling: the worker and all its tool jails together.
    public var workerMemoryMB = 2048
    public var workerPids = 512
    /// Ceilings of one exec call: a request above them is refused with 422.
    public var execMaxTimeoutMs = 60_000
    public var execMaxCpuMs = 60_000
    public var execMaxMemoryMB = 1024
    public var execMaxOutputBytes = 8 << 20
    /// The decision policies (`*.rego`, `*.json`); nil = the `policies/` that ships with Warden.
    public var policyDirectory: String?
    /// Budgets of one decision: past them the call is denied (fail closed).
    public var policyTimeoutMs = 100
    public var policyStepLimit = 1_000_000
    /// How long a call held for approval waits for a decision.
    public var approvalTTLSeconds: Double = 86_400
    /// Off, calls are neither limited by quotas nor recorded in the ledger (for
    /// measuring what metering costs; never in production).
    public var meteringEnabled = true
    /// Quota alerts (80 % and 100 % of a limit) are POSTed here when set.
    public var alertWebhookURL: String?
    /// Signs the webhook's body (HMAC-SHA256); prefer the environment variable for it.
    public var alertWebhookSecret: String?
    public var alertWebhookAttempts = 5
    /// The first retry waits this long; each next one twice as long.
    public var alertWebhookRetryMs = 500
    /// The egress proxy: calls with the network (exec `network: true`, fetch) go
    /// through it. Off, they are refused.
    public var egressEnabled = true
    /// Connections one tenant may have open through the proxy at once.
    public var egressMaxConnections = 64
    /// How long the proxy waits for an origin to accept a connection.
    public var egressConnectTimeoutMs = 10_000
    /// This node's name among the nodes sharing a store; nil = the host's name.
    public var nodeID: String?
    /// Where other nodes reach this one's tenant API (`http://host:port`); nil =
    /// `http://<http.host>:<bound port>`.
    public var nodeAdvertise: String?
    /// How often the node proves it is alive and renews its tenant leases.
    public var nodeHeartbeatMs = 2_000
    /// A lease not renewed for this long may be taken over by another node.
    public var nodeLeaseTTLMs = 10_000
    /// The tenants' headless browser (browser.* calls), when its binary is installed.
    public var browserEnabled = true
    public var browserBinary = "/usr/lib/chromium/chromium-headless-shell"
    /// A tenant's browser with no call for this long is stopped (it starts again on the next call).
    public var browserIdleSeconds: Double = 60
    /// The ceiling of a browser call's timeout_ms (the plan's call.timeout_ms may lower it).
    public var browserMaxTimeoutMs = 120_000

    public init() {}

    public enum LogFormat: String, Sendable, CaseIterable {
        case text
        case json
    }

    /// Applies layers in order, later ones winning, and validates every value.
    public static func resolve(_ layers: [ConfigurationLayer]) throws -> SupervisorConfiguration {
        var configuration = SupervisorConfiguration()
        for layer in layers {
            for (key, value) in layer.values.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                try configuration.apply(key, value, from: layer.name(of: key))
            }
        }
        return try configuration.validated()
    }

    private mutating func apply(_ key: ConfigurationKey, _ value: ConfigurationValue, from source: String) throws {
        switch key {
        case .stateDirectory:
            stateDirectory = try value.nonEmptyString(source)
        case .storeURL:
            do {
                store = try StoreLocation(parsing: try value.nonEmptyString(source))
            } catch let error as StoreError {
                throw ConfigurationError("\(source): \(error)")
            }
        case .httpHost:
            host = try value.nonEmptyString(source)
        case .httpPort:
            port = try value.integer(source, in: 0...65_535)
        case .httpMaxBodyBytes:
            maxBodyBytes = try value.integer(source, in: 1...(1 << 34))
        case .httpIdleTimeoutSeconds:
            idleTimeoutSeconds = try value.number(source, in: 0.001...86_400)
        case .logFormat:
            let raw = try value.nonEmptyString(source)
            guard let format = LogFormat(rawValue: raw.lowercased()) else {
                throw ConfigurationError("\(source): log format '\(raw)' is not one of text, json")
            }
            logFormat = format
        case .logLevel:
            let raw = try value.nonEmptyString(source)
            guard let level = Logger.Level(rawValue: raw.lowercased()) else {
                let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigurationError("\(source): log level '\(raw)' is not one of \(names)")
            }
            logLevel = level
        case .shutdownGraceSeconds:
            shutdownGraceSeconds = try value.number(source, in: 0...3_600)
        case .tenantsHostIDBase:
            hostIDBase = Int64(try value.integer(source, in: 1...Int(UInt32.max - 1)))
        case .tenantsHostIDCount:
            hostIDCount = Int64(try value.integer(source, in: 1...Int(UInt32.max - 1)))
        case .workersBinary:
            workerBinary = try value.nonEmptyString(source)
        case .workersIdleSeconds:
            workerIdleSeconds = try value.number(source, in: 1...86_400 * 7)
        case .workersMaxCalls:
            workerMaxCalls = try value.integer(source, in: 1...1024)
        case .workersMemoryMB:
            workerMemoryMB = try value.integer(source, in: 64...(1 << 20))
        case .workersPids:
            workerPids = try value.integer(source, in: 16...(1 << 22))
        case .execMaxTimeoutMs:
            execMaxTimeoutMs = try value.integer(source, in: 100...86_400_000)
        case .execMaxCpuMs:
            execMaxCpuMs = try value.integer(source, in: 10...86_400_000)
        case .execMaxMemoryMB:
            execMaxMemoryMB = try value.integer(source, in: 16...(1 << 20))
        case .execMaxOutputBytes:
            execMaxOutputBytes = try value.integer(source, in: 1024...(1 << 30))
        case .policyDirectory:
            policyDirectory = try value.nonEmptyString(source)
        case .policyTimeoutMs:
            policyTimeoutMs = try value.integer(source, in: 1...60_000)
        case .policyStepLimit:
            policyStepLimit = try value.integer(source, in: 1_000...1_000_000_000)
        case .approvalsTTLSeconds:
            approvalTTLSeconds = try value.number(source, in: 1...(86_400 * 365))
        case .meteringEnabled:
            meteringEnabled = try value.boolean(source)
        case .alertsWebhookURL:
            alertWebhookURL = try value.nonEmptyString(source)
        case .alertsWebhookSecret:
            alertWebhookSecret = try value.nonEmptyString(source)
        case .alertsWebhookAttempts:
            alertWebhookAttempts = try value.integer(source, in: 1...20)
        case .alertsWebhookRetryMs:
            alertWebhookRetryMs = try value.integer(source, in: 1...600_000)
        case .egressEnabled:
            egressEnabled = try value.boolean(source)
        case .egressMaxConnections:
            egressMaxConnections = try value.integer(source, in: 1...100_000)
        case .egressConnectTimeoutMs:
            egressConnectTimeoutMs = try value.integer(source, in: 10...600_000)
        case .nodeID:
            let id = try value.nonEmptyString(source)
            do {
                try NodeRecord.validate(id: id)
            } catch let error as StoreError {
                throw ConfigurationError("\(source): \(error)")
            }
            nodeID = id
        case .nodeAdvertise:
            let url = try value.nonEmptyString(source)
            guard NodeAddress(url) != nil else {
                throw ConfigurationError("\(source): '\(url)' is not an http://host:port address other nodes can reach")
            }
            nodeAdvertise = url
        case .nodeHeartbeatMs:
            nodeHeartbeatMs = try value.integer(source, in: 50...60_000)
        case .nodeLeaseTTLMs:
            nodeLeaseTTLMs = try value.integer(source, in: 150...600_000)
        case .browserEnabled:
            browserEnabled = try value.boolean(source)
        case .browserBinary:
            browserBinary = try value.nonEmptyString(source)
        case .browserIdleSeconds:
            browserIdleSeconds = try value.number(source, in: 1...86_400)
        case .browserMaxTimeoutMs:
            browserMaxTimeoutMs = try value.integer(source, in: 100...600_000)
        }
    }

    /// Rules between settings, checked once every layer is applied.
    func validated() throws -> SupervisorConfiguration {
        guard nodeLeaseTTLMs >= 3 * nodeHeartbeatMs else {
            throw ConfigurationError(
                "node.lease_ttl_ms (\(nodeLeaseTTLMs)) must be at least three heartbeats (node.heartbeat_ms is \(nodeHeartbeatMs)): a lease must survive a missed heartbeat")
        }
        return self
    }
}

public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
