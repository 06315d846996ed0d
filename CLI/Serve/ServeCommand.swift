import ArgumentParser
import Foundation
import Logging
import Supervisor

/// `warden serve`: runs the daemon in the foreground until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the supervisor: the tenant HTTP API and the operators' admin socket.",
        discussion: """
            Settings come from, lowest precedence first: built-in defaults, the TOML file \
            (--config or WARDEN_CONFIG), WARDEN_* environment variables (WARDEN_HTTP_PORT for \
            http.port, and so on), and these flags.
            """)

    @Option(name: .long, help: "TOML configuration file.")
    var config: String?

    @Option(name: .customLong("state-dir"), help: "State directory: database, tenant workspaces, admin socket (default ./var).")
    var stateDirectory: String?

    @Option(help: """
        The store: sqlite (default, the file in the state directory), a postgres:// URI, a libpq string \
        ('host=… dbname=…'), or postgresql for the PG* environment variables.
        """)
    var store: String?

    @Option(help: "Address the tenant API listens on (default 127.0.0.1).")
    var host: String?

    @Option(help: "Port of the tenant API; 0 picks a free one (default 8080).")
    var port: Int?

    @Option(name: .customLong("log-format"), help: "text or json (default text).")
    var logFormat: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?

    @Option(name: .customLong("max-body-bytes"), help: "Largest request body accepted (default 8 MiB).")
    var maxBodyBytes: Int?

    @Option(name: .customLong("idle-timeout"), help: "Seconds an idle keep-alive connection stays open (default 60).")
    var idleTimeout: Double?

    @Option(name: .customLong("shutdown-grace"), help: "Seconds in-flight requests get to finish on shutdown (default 30).")
    var shutdownGrace: Double?

    @Option(name: .customLong("host-id-base"), help: "First host uid/gid handed to tenants in root mode (default 200000).")
    var hostIDBase: Int?

    @Option(name: .customLong("host-id-count"), help: "Host uids/gids per tenant in root mode (default 65536).")
    var hostIDCount: Int?

    @Option(name: .customLong("worker-binary"), help: "The warden-worker executable (default: beside warden).")
    var workerBinary: String?

    @Option(name: .customLong("worker-idle"), help: "Seconds without calls before a worker is stopped (default 300).")
    var workerIdle: Double?

    @Option(name: .customLong("worker-max-calls"), help: "Concurrent calls per worker (default 16).")
    var workerMaxCalls: Int?

    @Option(name: .customLong("worker-memory-mb"), help: "Memory ceiling of a tenant's jail, worker and calls together (default 2048).")
    var workerMemoryMB: Int?

    @Option(name: .customLong("worker-pids"), help: "Process ceiling of a tenant's jail (default 512).")
    var workerPids: Int?

    @Option(name: .customLong("exec-max-timeout-ms"), help: "Largest timeout_ms of an exec call (default 60000).")
    var execMaxTimeoutMs: Int?

    @Option(name: .customLong("exec-max-cpu-ms"), help: "Largest cpu_ms of an exec call (default 60000).")
    var execMaxCpuMs: Int?

    @Option(name: .customLong("exec-max-memory-mb"), help: "Largest memory_mb of an exec call (default 1024).")
    var execMaxMemoryMB: Int?

    @Option(name: .customLong("exec-max-output-bytes"), help: "Largest output_bytes of an exec call (default 8 MiB).")
    var execMaxOutputBytes: Int?

    @Option(help: "Directory of the decision policies, *.rego and *.json (default: the policies/ shipped with warden).")
    var policies: String?

    @Option(name: .customLong("policy-timeout-ms"), help: "Time budget of one policy decision; past it the call is denied (default 100).")
    var policyTimeoutMs: Int?

    @Option(name: .customLong("policy-step-limit"), help: "Step budget of one policy decision (default 1000000).")
    var policyStepLimit: Int?

    @Option(name: .customLong("approval-ttl"), help: "Seconds a call held for approval waits for a decision (default 86400).")
    var approvalTTL: Double?

    @Option(help: "Meter calls against quotas and record them in the ledger: true (default) or false (benchmarks only).")
    var metering: String?

    @Option(name: .customLong("alert-webhook"), help: "POST quota alerts (80 % and 100 % of a limit) to this http:// URL.")
    var alertWebhook: String?

    @Option(name: .customLong("alert-webhook-secret"), help: "Secret that signs alert bodies (better: WARDEN_ALERTS_WEBHOOK_SECRET).")
    var alertWebhookSecret: String?

    @Option(name: .customLong("alert-webhook-attempts"), help: "Deliveries tried per alert (default 5).")
    var alertWebhookAttempts: Int?

    @Option(name: .customLong("alert-webhook-retry-ms"), help: "Wait before the first retry, doubled each time (default 500).")
    var alertWebhookRetryMs: Int?

    @Option(help: "The egress proxy for calls with the network (exec network: true, fetch): true (default) or false.")
    var egress: String?

    @Option(name: .customLong("egress-max-connections"), help: "Connections one tenant may have open through the egress proxy (default 64).")
    var egressMaxConnections: Int?

    @Option(name: .customLong("egress-connect-timeout-ms"), help: "How long the egress proxy waits for an origin to accept a connection (default 10000).")
    var egressConnectTimeoutMs: Int?
    @Option(name: .customLong("node-id"), help: "This node's id among nodes sharing a PostgreSQL store (default: the host name).")
    var nodeID: String?

    @Option(help: "Where other nodes reach this node's tenant API, http://host:port (default: http://HOST:PORT as bound).")
    var advertise: String?

    @Option(name: .customLong("heartbeat-ms"), help: "How often the node heartbeats and renews its tenant leases (default 2000).")
    var heartbeatMs: Int?

    @Option(name: .customLong("lease-ttl-ms"), help: "How long a tenant lease lasts without renewal; a dead node's tenants move after it (default 10000).")
    var leaseTTLMs: Int?

    @Option(help: "The tenants' headless browser (browser.* calls): true (default, when Chromium is installed) or false.")
    var browser: String?

    @Option(name: .customLong("browser-binary"), help: "Chromium's headless shell (default /usr/lib/chromium/chromium-headless-shell).")
    var browserBinary: String?

    @Option(name: .customLong("browser-idle"), help: "Seconds without a call after which a tenant's browser stops (default 60).")
    var browserIdle: Double?

    @Option(name: .customLong("browser-max-timeout-ms"), help: "Largest timeout_ms of a browser call (default 120000).")
    var browserMaxTimeoutMs: Int?

    func run() async throws {
        let flags = ConfigurationLayer.flags([
            .stateDirectory: stateDirectory.map { .string($0) },
            .storeURL: store.map { .string($0) },
            .httpHost: host.map { .string($0) },
            .httpPort: port.map { .integer($0) },
            .logFormat: logFormat.map { .string($0) },
            .logLevel: logLevel.map { .string($0) },
            .httpMaxBodyBytes: maxBodyBytes.map { .integer($0) },
            .httpIdleTimeoutSeconds: idleTimeout.map { .number($0) },
            .shutdownGraceSeconds: shutdownGrace.map { .number($0) },
            .tenantsHostIDBase: hostIDBase.map { .integer($0) },
            .tenantsHostIDCount: hostIDCount.map { .integer($0) },
            .workersBinary: workerBinary.map { .string($0) },
            .workersIdleSeconds: workerIdle.map { .number($0) },
            .workersMaxCalls: workerMaxCalls.map { .integer($0) },
            .workersMemoryMB: workerMemoryMB.map { .integer($0) },
            .workersPids: workerPids.map { .integer($0) },
            .execMaxTimeoutMs: execMaxTimeoutMs.map { .integer($0) },
            .execMaxCpuMs: execMaxCpuMs.map { .integer($0) },
            .execMaxMemoryMB: execMaxMemoryMB.map { .integer($0) },
            .execMaxOutputBytes: execMaxOutputBytes.map { .integer($0) },
            .policyDirectory: policies.map { .string($0) },
            .policyTimeoutMs: policyTimeoutMs.map { .integer($0) },
            .policyStepLimit: policyStepLimit.map { .integer($0) },
            .approvalsTTLSeconds: approvalTTL.map { .number($0) },
            .meteringEnabled: metering.map { .string($0) },
            .alertsWebhookURL: alertWebhook.map { .string($0) },
            .alertsWebhookSecret: alertWebhookSecret.map { .string($0) },
            .alertsWebhookAttempts: alertWebhookAttempts.map { .integer($0) },
            .alertsWebhookRetryMs: alertWebhookRetryMs.map { .integer($0) },
            .egressEnabled: egress.map { .string($0) },
            .egressMaxConnections: egressMaxConnections.map { .integer($0) },
            .egressConnectTimeoutMs: egressConnectTimeoutMs.map { .integer($0) },
            .nodeID: nodeID.map { .string($0) },
            .nodeAdvertise: advertise.map { .string($0) },
            .nodeHeartbeatMs: heartbeatMs.map { .integer($0) },
            .nodeLeaseTTLMs: leaseTTLMs.map { .integer($0) },
            .browserEnabled: browser.map { .string($0) },
            .browserBinary: browserBinary.map { .string($0) },
            .browserIdleSeconds: browserIdle.map { .number($0) },
            .browserMaxTimeoutMs: browserMaxTimeoutMs.map { .integer($0) },
        ])
        let configuration: SupervisorConfiguration
        do {
            configuration = try SupervisorConfiguration.load(
                configFile: config, environment: ProcessInfo.processInfo.environment, flags: flags)
        } catch let error as ConfigurationError {
            throw ValidationError(error.description)
        }

        LoggingSetup.bootstrap(format: configuration.logFormat, level: configuration.logLevel)
        let logger = Logger(label: "warden")
        let daemon = try Daemon(configuration: configuration, logger: logger)
        try await daemon.run()
    }
}
