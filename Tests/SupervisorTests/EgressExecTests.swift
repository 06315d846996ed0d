import Foundation
import Store
import Supervisor
import Testing

/// `exec` with and without the network, over real HTTP, real jails and a
/// real proxy; every server is on 127.0.0.1.
/// One test at a time: each runs a daemon with workers, and calls whose wall
/// time includes the supervisor's own work (the proxy) while the whole suite
/// loads two cores.
@Suite("Egress: exec with the network", .serialized)
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
            let response = try await daemon.exec(token, ["language": "python", "network": true, "timeout_ms": 60_000, "code": """
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
            let curl = try await daemon.exec(token, ["language": "bash", "network": true, "timeout_ms": 60_000,
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

    /// Bytes both ways are counted exactly: what the origin received and sent,
    /// through a forwarded request and a CONNECT tunnel, is what the call adds
    /// to egress.bytes.month (the proxy's own CONNECT exchange is not counted).
    @Test func bytesAreCountedExactly() async throws {
        try await withLocalServer { server, daemon in
            let (tenant, token) = try await daemon.tenantWithKey("counted")
            let result = try await daemon.run(token, "python", """
                import http.client, urllib.request
                a = urllib.request.urlopen('http://127.0.0.1:\(server.port)/bytes/100000', timeout=30).read()
                c = http.client.HTTPConnection('127.0.0.1', 3128, timeout=30)
                c.set_tunnel('127.0.0.1', \(server.port))
                c.request('POST', '/echo', body=b'x' * 5000)
                b = c.getresponse().read()
                print(len(a), len(b), a[:3] == bytes([0, 1, 2]))
                """, network: true)
            #expect(result["stdout"] as? String == "100000 5000 True\n", "\(result)")
            let wire = server.wireBytes
            #expect(wire > 105_000)
            #expect(try await daemon.used("egress.bytes.month", of: tenant.id) == Double(wire))
            // The ledger's record of the call carries it too.
            let ledger = try await daemon.admin.usage(tenant: tenant.id, by: .tool)
            #expect(ledger.rows.first { $0.group == "exec" }?.egressBytes == Int64(wire), "\(ledger.rows)")
        }
    }

    /// Past its hard egress limit a tenant is refused: the connection that
    /// crosses it is cut, and the next call with the network is a 429.
    @Test func overTheEgressLimitIsRefusedWithTheQuotaError() async throws {
        try await withLocalServer { server, daemon in
            let (tenant, token) = try await daemon.tenantWithKey("metered")
            let limit = 1_000_000
            _ = try await daemon.admin.setTenantLimit(tenant.id, metric: "egress.bytes.month", limit: Limit(Double(limit)))
            let first = try await daemon.run(token, "python", """
                import http.client, urllib.request
                try:
                    body = urllib.request.urlopen('http://127.0.0.1:\(server.port)/bytes/4000000', timeout=30).read()
                    print('whole', len(body))
                except http.client.IncompleteRead as e:
                    print('cut', len(e.partial) < 4000000)
                """, network: true)
            #expect(first["stdout"] as? String == "cut True\n", "\(first)")
            let used = try await daemon.used("egress.bytes.month", of: tenant.id)
            #expect(used >= Double(limit) && used < Double(limit + 512 * 1024), "used \(used)")

            let refused = try await daemon.exec(token, ["language": "bash", "code": "true", "network": true])
            #expect(refused.status == 429, "\(String(decoding: refused.body, as: UTF8.self))")
            #expect(refused.errorCode == "quota_exceeded")
            #expect((refused.json?["error"] as? [String: Any])?["metric"] as? String == "egress.bytes.month")
            // The quota is egress's: a call without the network still runs.
            #expect(try await daemon.exec(token, ["language": "bash", "code": "true"]).status == 200)
        }
    }

    /// Each call's proxy listener is its own, in its own namespace: two
    /// tenants' calls at once each see one listener, a different one, and
    /// their bytes are counted to each alone.
    @Test func twoTenantsHaveDistinctListeners() async throws {
        try await withLocalServer { server, daemon in
            let (alice, aliceKey) = try await daemon.tenantWithKey("alice")
            let (bob, bobKey) = try await daemon.tenantWithKey("bob")
            func probe(bytes: Int) -> String {
                """
                import os, time, urllib.request
                time.sleep(1)
                rows = [l.split() for l in open('/proc/net/tcp').read().splitlines()[1:]]
                listeners = [r[9] for r in rows if r[3] == '0A']
                urllib.request.urlopen('http://127.0.0.1:\(server.port)/bytes/\(bytes)', timeout=30).read()
                time.sleep(1)
                print(os.readlink('/proc/self/ns/net'), ','.join(listeners))
                """
            }
            async let a = daemon.stdout(aliceKey, "python", probe(bytes: 1000))
            async let b = daemon.stdout(bobKey, "python", probe(bytes: 200_000))
            let (aliceOut, bobOut) = try await (a, b)
            let aliceFields = aliceOut.split(separator: " "), bobFields = bobOut.split(separator: " ")
            #expect(aliceFields.count == 2 && bobFields.count == 2, "\(aliceOut) \(bobOut)")
            #expect(aliceFields.first != bobFields.first, "two calls share a network namespace: \(aliceOut) \(bobOut)")
            #expect(!(aliceFields.last ?? "").contains(",") && !(bobFields.last ?? "").contains(","), "more than one listener: \(aliceOut) \(bobOut)")
            #expect(aliceFields.last != bobFields.last, "\(aliceOut) \(bobOut)")
            let aliceUsed = try await daemon.used("egress.bytes.month", of: alice.id)
            let bobUsed = try await daemon.used("egress.bytes.month", of: bob.id)
            #expect(aliceUsed > 1000 && aliceUsed < 10_000, "alice \(aliceUsed)")
            #expect(bobUsed > 200_000 && bobUsed < 210_000, "bob \(bobUsed)")
            #expect(aliceUsed + bobUsed == Double(server.wireBytes))
        }
    }

    /// The supervisor holds a call's listener while the call runs and lets go
    /// of it when the call ends.
    @Test func theListenerIsGoneAfterTheCallEnds() async throws {
        try await withLocalServer { server, daemon in
            let (_, token) = try await daemon.tenantWithKey("ephemeral")
            let call = Task {
                try await daemon.stdout(token, "python", """
                    import time, urllib.request
                    rows = [l.split() for l in open('/proc/net/tcp').read().splitlines()[1:]]
                    inode = [r[9] for r in rows if r[1].endswith(':0C38') and r[3] == '0A'][0]
                    urllib.request.urlopen('http://127.0.0.1:\(server.port)/text/' + inode, timeout=30).read()
                    time.sleep(3)
                    """)
            }
            let reported = await Live.eventually(within: 60) { !server.requests.isEmpty }
            let inode = try #require(reported ? server.requests.first?.uri.split(separator: "/").last.map(String.init) : nil)
            let held = { Live.descriptors(of: getpid()).contains("socket:[\(inode)]") }
            #expect(held(), "the supervisor does not hold the call's listener while it runs")
            _ = try await call.value
            #expect(await Live.eventually(within: 10) { !held() }, "the listener outlived its call")
        }
    }

    /// Below the pro plan, exec with the network waits for an operator; once
    /// approved it runs with the network, through the proxy, and is counted.
    @Test func anApprovedCallGetsTheNetworkWhenItRuns() async throws {
        try await withLocalServer { server, daemon in
            let (tenant, token) = try await daemon.tenantWithKey("creative", plan: "creator")
            let held = try await daemon.exec(token, ["language": "python", "network": true, "timeout_ms": 30_000,
                                                     "code": fetchScript("http://127.0.0.1:\(server.port)/text/approved")])
            #expect(held.status == 202, "\(String(decoding: held.body, as: UTF8.self))")
            let id = try #require(held.json?["approval_id"] as? String)
            #expect(server.requests.isEmpty)
            _ = try await daemon.admin.approve(id, note: nil)
            let done = try await daemon.http("GET", "/v1/approvals/\(id)?wait=30", headers: bearer(token))
            let result = try #require(done.json?["result"] as? [String: Any], "\(String(decoding: done.body, as: UTF8.self))")
            #expect(result["stdout"] as? String == "200 hello approved\n", "\(result)")
            #expect(try await daemon.used("egress.bytes.month", of: tenant.id) == Double(server.wireBytes))
        }
    }

    /// A tenant's connections through the proxy are capped (egress.max_connections).
    @Test func connectionsPastTheTenantsCapAreRefused() async throws {
        try await withLocalServer(configure: { $0.egressMaxConnections = 2 }) { _, daemon in
            let (_, token) = try await daemon.tenantWithKey("greedy")
            let out = try await daemon.stdout(token, "python", """
                import socket, time
                held = [socket.create_connection(('127.0.0.1', 3128), timeout=30) for _ in range(2)]
                time.sleep(0.5)
                third = socket.create_connection(('127.0.0.1', 3128), timeout=30)
                print(third.recv(200).decode().split('\\r\\n')[0])
                """)
            #expect(out == "HTTP/1.1 503 Service Unavailable\n", "\(out)")
        }
    }
}

extension RunningDaemon {
    /// Runs code with the network and returns its stdout; the call must succeed.
    func stdout(_ token: String, _ language: String, _ code: String) async throws -> String {
        try await run(token, language, code, network: true)["stdout"] as? String ?? ""
    }

    /// Runs code (with the network when asked) and returns the result document; the call must succeed.
    func run(_ token: String, _ language: String, _ code: String, network: Bool,
             sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        // Generous: the wall time of a call with the network includes the supervisor's work for it.
        let response = try await exec(token, ["language": language, "code": code, "network": network, "timeout_ms": 60_000])
        #expect(response.status == 200, "exec answered \(response.status): \(String(decoding: response.body, as: UTF8.self))",
                sourceLocation: sourceLocation)
        return try #require(response.json, sourceLocation: sourceLocation)
    }
}
