import Foundation
import Store
import Supervisor
import Testing

/// A live daemon whose policies open egress as `egress` says (the shipped
/// rules, plus `data.egress` from an egress.json): the tests let 127.0.0.1
/// and their local servers' ports through, and nothing else.
func withEgressDaemon(_ egress: [String: Any], configure: @escaping (inout SupervisorConfiguration) -> Void = { _ in },
                      _ body: (RunningDaemon) async throws -> Void) async throws {
    let policies = try PolicyDirectory()
    try policies.write("egress.json", String(decoding: Live.json(["egress": egress]), as: UTF8.self))
    try await withLiveDaemon({
        $0.policyDirectory = policies.path
        configure(&$0)
    }, body)
    withExtendedLifetime(policies) {}
}

/// A local test server and a live daemon whose policies open 127.0.0.1 on its port.
func withLocalServer(configure: @escaping (inout SupervisorConfiguration) -> Void = { _ in },
                     _ body: (TestWebServer, RunningDaemon) async throws -> Void) async throws {
    let server = try await TestWebServer.start()
    do {
        try await withEgressDaemon(localEgress(ports: [server.port]), configure: configure) { daemon in
            try await body(server, daemon)
        }
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}

/// Egress data that opens 127.0.0.1 on the given ports.
func localEgress(ports: [Int]) -> [String: Any] {
    ["ports": ports, "allow_private": ["127.0.0.1/32"]]
}

extension RunningDaemon {
    /// What the tenant's counter of `metric` holds this period.
    func used(_ metric: String, of tenantID: String) async throws -> Double {
        try await admin.quota(tenantID).metrics.first { $0.metric == metric }?.used ?? 0
    }

    /// The value of one series of `/metrics`, 0 when it is absent.
    func metric(_ series: String) async throws -> Double {
        let text = String(decoding: try await http("GET", "/metrics").body, as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.hasPrefix(series + " ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
    }

    /// The net.connect decisions of a tenant in the audit log.
    func connectDecisions(_ tenantID: String) async throws -> [AuditRecord] {
        try await admin.audit(AuditQuery(tenantID: tenantID)).filter { $0.tool == "net.connect" }
    }
}

/// Python run with the network, as a test payload: prints what `urlopen` got
/// (status and body), or the proxy's refusal (status and body).
func fetchScript(_ url: String) -> String {
    """
    import urllib.request, urllib.error
    try:
        r = urllib.request.urlopen('\(url)', timeout=30)
        print(r.status, r.read().decode(errors='replace'), end='')
    except urllib.error.HTTPError as e:
        print(e.code, e.read().decode(errors='replace'), end='')
    """
}
