import Foundation

/// Every setting, named once. The TOML key is the raw value; the environment
/// variable is derived from it (`http.port` → `WARDEN_HTTP_PORT`).
public enum ConfigurationKey: String, CaseIterable, Sendable {
    case stateDirectory = "state_dir"
    case storeURL = "store.url"
    case httpHost = "http.host"
    case httpPort = "http.port"
    case httpMaxBodyBytes = "http.max_body_bytes"
    case httpIdleTimeoutSeconds = "http.idle_timeout_seconds"
    case logFormat = "log.format"
    case logLevel = "log.level"
    case shutdownGraceSeconds = "shutdown.grace_seconds"
    case tenantsHostIDBase = "tenants.host_id_base"
    case tenantsHostIDCount = "tenants.host_id_count"
    case workersBinary = "workers.binary"
    case workersIdleSeconds = "workers.idle_seconds"
    case workersMaxCalls = "workers.max_calls"
    case workersMemoryMB = "workers.memory_mb"
    case workersPids = "workers.pids"
    case execMaxTimeoutMs = "exec.max_timeout_ms"
    case execMaxCpuMs = "exec.max_cpu_ms"
    case execMaxMemoryMB = "exec.max_memory_mb"
    case execMaxOutputBytes = "exec.max_output_bytes"
    case policyDirectory = "policy.directory"
    case policyTimeoutMs = "policy.timeout_ms"
    case policyStepLimit = "policy.step_limit"
    case approvalsTTLSeconds = "approvals.ttl_seconds"
    case meteringEnabled = "metering.enabled"
    case alertsWebhookURL = "alerts.webhook_url"
    case alertsWebhookSecret = "alerts.webhook_secret"
    case alertsWebhookAttempts = "alerts.webhook_attempts"
    case alertsWebhookRetryMs = "alerts.webhook_retry_ms"
    case egressEnabled = "egress.enabled"
    case egressMaxConnections = "egress.max_connections"
    case egressConnectTimeoutMs = "egress.connect_timeout_ms"
    case browserEnabled = "browser.enabled"
    case browserBinary = "browser.binary"
    case browserIdleSeconds = "browser.idle_seconds"
    case browserMaxTimeoutMs = "browser.max_timeout_ms"

    public var environmentVariable: String {
        "WARDEN_" + rawValue.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// The `warden serve` flag that sets it.
    public var flagName: String {
        switch self {
        case .stateDirectory: return "--state-dir"
        case .storeURL: return "--store"
        case .httpHost: return "--host"
        case .httpPort: return "--port"
        case .httpMaxBodyBytes: return "--max-body-bytes"
        case .httpIdleTimeoutSeconds: return "--idle-timeout"
        case .logFormat: return "--log-format"
        case .logLevel: return "--log-level"
        case .shutdownGraceSeconds: return "--shutdown-grace"
        case .tenantsHostIDBase: return "--host-id-base"
        case .tenantsHostIDCount: return "--host-id-count"
        case .workersBinary: return "--worker-binary"
        case .workersIdleSeconds: return "--worker-idle"
        case .workersMaxCalls: return "--worker-max-calls"
        case .workersMemoryMB: return "--worker-memory-mb"
        case .workersPids: return "--worker-pids"
        case .execMaxTimeoutMs: return "--exec-max-timeout-ms"
        case .execMaxCpuMs: return "--exec-max-cpu-ms"
        case .execMaxMemoryMB: return "--exec-max-memory-mb"
        case .execMaxOutputBytes: return "--exec-max-output-bytes"
        case .policyDirectory: return "--policies"
        case .policyTimeoutMs: return "--policy-timeout-ms"
        case .policyStepLimit: return "--policy-step-limit"
        case .approvalsTTLSeconds: return "--approval-ttl"
        case .meteringEnabled: return "--metering"
        case .alertsWebhookURL: return "--alert-webhook"
        case .alertsWebhookSecret: return "--alert-webhook-secret"
        case .alertsWebhookAttempts: return "--alert-webhook-attempts"
        case .alertsWebhookRetryMs: return "--alert-webhook-retry-ms"
        case .egressEnabled: return "--egress"
        case .egressMaxConnections: return "--egress-max-connections"
        case .egressConnectTimeoutMs: return "--egress-connect-timeout-ms"
        case .browserEnabled: return "--browser"
        case .browserBinary: return "--browser-binary"
        case .browserIdleSeconds: return "--browser-idle"
        case .browserMaxTimeoutMs: return "--browser-max-timeout-ms"
        }
    }

    /// Names the config file itself; read before the other variables.
    public static let configFileEnvironmentVariable = "WARDEN_CONFIG"
}
