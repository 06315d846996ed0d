/// How the egress proxy runs (`egress.*` settings).
struct EgressSettings: Sendable, Equatable {
    /// Off: no call gets the network (exec with `network: true` and fetch are refused).
    var enabled: Bool
    /// Connections one tenant may have open through the proxy at once.
    var maxConnections: Int
    /// How long a connection to an origin may take to open.
    var connectTimeoutMs: Int

    init(configuration: SupervisorConfiguration) {
        enabled = configuration.egressEnabled
        maxConnections = configuration.egressMaxConnections
        connectTimeoutMs = configuration.egressConnectTimeoutMs
    }
}
