import Foundation
import Supervisor
import Testing

@Suite("Tenant HTTP API")
struct HTTPAPITests {
    @Test func healthReportsVersionStoreWorkersAndHost() async throws {
        try await withDaemon { daemon in
            let response = try await daemon.http("GET", "/v1/health")
            #expect(response.status == 200)
            #expect(response.header("Content-Type")?.hasPrefix("application/json") == true)
            let json = try #require(response.json)
            #expect(json["status"] as? String == "ok")
            #expect(json["version"] as? String == WardenVersion.current)
            #expect((json["features"] as? [String])?.contains("tenants") == true)
            #expect((json["store"] as? [String: Any])?["reachable"] as? Bool == true)
            #expect((json["workers"] as? [String: Any])?["running"] as? Int == 0)
            let host = try #require(json["host"] as? [String: Any])
            #expect(["v1", "v2", "hybrid", "none"].contains(host["cgroup_version"] as? String ?? "?"))
            #expect(host["user_namespaces"] is Bool)
        }
    }

    @Test func unknownRoutesAre404AndWrongMethodsAre405InTheErrorShape() async throws {
        try await withDaemon { daemon in
            let missing = try await daemon.http("GET", "/v1/nothing-here")
            #expect(missing.status == 404)
            #expect(missing.errorCode == "not_found")
            #expect(missing.errorMessage?.contains("/v1/nothing-here") == true)

            let wrongMethod = try await daemon.http("DELETE", "/v1/health")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.errorCode == "method_not_allowed")
            #expect(wrongMethod.header("Allow") == "GET")
        }
    }

    @Test func aSaneRequestIDIsEchoedAndLogged() async throws {
        try await withDaemon { daemon in
            let response = try await daemon.http("GET", "/v1/health", headers: [("X-Request-Id", "client-42.a:b_c")])
            #expect(response.header("X-Request-Id") == "client-42.a:b_c")
            let logged = daemon.logs.entries.filter { $0.metadata["request_id"] == "client-42.a:b_c" }
            #expect(logged.contains { $0.message == "request" && $0.metadata["status"] == "200" })
        }
    }

    @Test(arguments: ["has spaces", String(repeating: "x", count: 129), "semi;colon", "a/b"])
    func anInsaneRequestIDIsReplaced(candidate: String) async throws {
        try await withDaemon { daemon in
            let response = try await daemon.http("GET", "/v1/health", headers: [("X-Request-Id", candidate)])
            let echoed = try #require(response.header("X-Request-Id"))
            #expect(echoed != candidate)
            #expect(echoed.hasPrefix("req_"))
        }
    }

    @Test func everyResponseIncludingErrorsCarriesAGeneratedRequestID() async throws {
        try await withDaemon { daemon in
            let ok = try await daemon.http("GET", "/v1/health")
            let failed = try await daemon.http("GET", "/v1/whoami")
            let first = try #require(ok.header("X-Request-Id"))
            let second = try #require(failed.header("X-Request-Id"))
            #expect(first.hasPrefix("req_") && second.hasPrefix("req_") && first != second)
        }
    }

    @Test func aDeclaredBodyOverTheLimitIs413BeforeAnythingElse() async throws {
        try await withDaemon(maxBodyBytes: 1024) { daemon in
            let response = try await daemon.http("POST", "/v1/whoami", body: Data(repeating: 0x41, count: 200_000))
            #expect(response.status == 413)
            #expect(response.errorCode == "body_too_large")
            #expect(response.errorMessage?.contains("1024") == true)
            #expect(response.header("X-Request-Id") != nil)

            // The server is still fine afterwards.
            #expect(try await daemon.http("GET", "/v1/health").status == 200)
        }
    }
}
