import Foundation
import Store
import Supervisor
import Testing

/// `exec` with and without the network, over real HTTP, real jails and a
/// real proxy; every server is on 127.0.0.1.
@Suite("Egress: exec with the network")
struct EgressExecTests {
    /// Without the network a call keeps the tenant jail's loopback-only
    /// namespace: no proxy there, no route out, the host's loopback unreachable.
    @Test func execWithoutNetworkReachesNothing() async throws {
        try await withLocalServer { server, daemon in
            let (_, token) = try await daemon.tenantWithKey("offline")
            let result = try await daemon.run(token, "python", """
                import os, socket
                print('ifaces', sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').read().splitlines()[2:]))
                print('routes', len(open('/proc/net/route').read().splitlines()) - 1)
                print('proxy variables', sorted(k for k in os.environ if 'proxy' in k.lower()))
                for port in (3128, \(server.port)):
                    s = socket.socket(); s.settimeout(5)
                    try:
                        s.connect(('127.0.0.1', port)); print(port, 'connected')
                    except OSError as e:
                        print(port, 'refused', e.errno)
                """)
            #expect(result["stdout"] as? String == """
                ifaces ['lo']
                routes 0
                proxy variables []
                3128 refused 111
                \(server.port) refused 111

                """, "\(result)")
            #expect(server.requests.isEmpty)
        }
    }

    /// With the network, the call's own namespace holds the proxy at
    /// 127.0.0.1:3128 and the variables that point clients at it; the request
    /// reaches the server in origin form, and going around the proxy fails.
    @Test func execWithNetworkReachesAnAllowedServerThroughTheProxy() async throws {
        try await withLocalServer { server, daemon in
            let (tenant, token) = try await daemon.tenantWithKey("online")
            let response = try await daemon.exec(token, ["language": "python", "network": true, "code": """
                import os, socket
                \(fetchScript("http://127.0.0.1:\(server.port)/text/through-the-proxy"))
                print('ifaces', sorted(l.split(':')[0].strip() for l in open('/proc/net/dev').read().splitlines()[2:]))
                print('proxy', os.environ['HTTP_PROXY'], os.environ['https_proxy'], repr(os.environ['NO_PROXY']))
                s = socket.socket(); s.settimeout(5)
                try:
                    s.connect(('127.0.0.1', \(server.port))); print('direct connected')
                except OSError as e:
                    print('direct refused', e.errno)
                """])
            #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
            #expect(response.json?["stdout"] as? String == """
                200 hello through-the-proxy
                ifaces ['lo']
                proxy http://127.0.0.1:3128 http://127.0.0.1:3128 ''
                direct refused 111

                """, "\(response.json ?? [:])")
            let seen = try #require(server.requests.first)
            #expect(seen.uri == "/text/through-the-proxy" && seen.host == "127.0.0.1:\(server.port)", "\(seen)")

            // curl from bash takes the same way.
            let curl = try await daemon.exec(token, ["language": "bash", "network": true,
                                                     "code": "curl -sS http://127.0.0.1:\(server.port)/text/curl"])
            #expect(curl.json?["stdout"] as? String == "hello curl\n", "\(curl.json ?? [:])")

            let decisions = try await daemon.connectDecisions(tenant.id)
            #expect(decisions.count == 2 && decisions.allSatisfy { $0.decision == "allow" }, "\(decisions)")
        }
    }

    /// A host the policy refuses answers 403 with the policy's message, from
    /// the proxy, before any connection; the decision is in the audit log.
    @Test func aDeniedHostGetsTheProxysRefusal() async throws {
        try await withLocalServer { server, daemon in
            let (tenant, token) = try await daemon.tenantWithKey("refused")
            let result = try await daemon.run(token, "python", fetchScript("http://127.0.0.1:9/denied"), network: true)
            let out = result["stdout"] as? String ?? ""
            #expect(out.hasPrefix("403 "), "\(result)")
            #expect(out.contains("port 9 of 127.0.0.1 is closed to egress"), "\(out)")
            #expect(out.contains("\"code\":\"policy_denied\""), "\(out)")
            let denied = try await daemon.connectDecisions(tenant.id)
            #expect(denied.count == 1 && denied.first?.decision == "deny", "\(denied)")
            #expect(denied.first?.reasons.first?.contains("port 9") == true, "\(denied)")
        }
    }

    /// CONNECT (the way HTTPS goes) to a port the policy keeps closed is refused.
    @Test func connectToADeniedPortIsRefused() async throws {
        try await withLocalServer { server, daemon in
            let (_, token) = try await daemon.tenantWithKey("tunnels")
            let result = try await daemon.run(token, "python", """
                import http.client
                for port in (22, \(server.port)):
                    c = http.client.HTTPConnection('127.0.0.1', 3128, timeout=30)
                    c.set_tunnel('127.0.0.1', port)
                    try:
                        c.request('GET', '/text/tunnelled'); r = c.getresponse()
                        print(port, r.status, r.read().decode(), end='')
                    except OSError as e:
                        print(port, 'refused:', e)
                """, network: true)
            let out = result["stdout"] as? String ?? ""
            #expect(out.contains("22 refused: Tunnel connection failed: 403"), "\(out)")
            #expect(out.contains("\(server.port) 200 hello tunnelled"), "\(out)")
            #expect(server.requests.count == 1)
        }
    }

    /// A name the policy lets through is still judged on the address it
    /// resolves to: `localhost` is 127.0.0.1, which this policy keeps closed.
    @Test func aNameThatResolvesToAPrivateAddressIsRefusedOnItsAddress() async throws {
        let server = try await TestWebServer.start()
        defer { Task { await server.stop() } }
        try await withEgressDaemon(["ports": [server.port], "allow_hosts": ["localhost"]]) { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("rebinding")
            let result = try await daemon.run(token, "python", fetchScript("http://localhost:\(server.port)/text/private"),
                                              network: true)
            let out = result["stdout"] as? String ?? ""
            #expect(out.hasPrefix("403 "), "\(out)")
            #expect(out.contains("localhost resolves to 127.0.0.1, a loopback address"), "\(out)")
            #expect(server.requests.isEmpty, "the proxy connected: \(server.requests)")
            #expect(try await daemon.connectDecisions(tenant.id).map(\.decision) == ["deny"])
        }
    }

    /// Cloud metadata addresses are refused by the decision, before the proxy
    /// tries to connect: nothing is ever sent to them.
    @Test func theMetadataAddressIsRefusedBeforeAnyConnect() async throws {
        try await withEgressDaemon(["ports": [80, 443], "allow_private": ["127.0.0.1/32", "169.254.0.0/16", "fd00::/8"]]) { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("metadata")
            let attemptsBefore = try await daemon.metric(#"warden_egress_connects_total{result="attempted"}"#)
            let result = try await daemon.run(token, "python", """
                import http.client, urllib.request, urllib.error
                try:
                    urllib.request.urlopen('http://169.254.169.254/latest/meta-data/', timeout=30)
                except urllib.error.HTTPError as e:
                    print('http', e.code, e.headers.get('X-Warden-Error'))
                c = http.client.HTTPConnection('127.0.0.1', 3128, timeout=30)
                c.set_tunnel('[fd00:ec2::254]', 443)
                try:
                    c.connect()
                except OSError as e:
                    print('tunnel', e)
                """, network: true)
            #expect(result["stdout"] as? String == "http 403 policy_denied\ntunnel Tunnel connection failed: 403 Forbidden\n", "\(result)")
            let decisions = try await daemon.connectDecisions(tenant.id)
            #expect(decisions.map(\.decision) == ["deny", "deny"], "\(decisions)")
            #expect(decisions.contains { $0.reasons.contains { $0.contains("169.254.169.254, a metadata address") } }, "\(decisions)")
            #expect(decisions.contains { $0.reasons.contains { $0.contains("fd00:ec2::254, a metadata address") } }, "\(decisions)")
            #expect(try await daemon.metric(#"warden_egress_connects_total{result="attempted"}"#) == attemptsBefore)
            #expect(try await daemon.metric(#"warden_egress_refusals_total{code="policy_denied"}"#) == 2)
        }
    }
}

extension RunningDaemon {
    /// Runs code (with the network when asked) and returns the result document; the call must succeed.
    func run(_ token: String, _ language: String, _ code: String, network: Bool,
             sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let response = try await exec(token, ["language": language, "code": code, "network": network])
        #expect(response.status == 200, "exec answered \(response.status): \(String(decoding: response.body, as: UTF8.self))",
                sourceLocation: sourceLocation)
        return try #require(response.json, sourceLocation: sourceLocation)
    }
}
