import Foundation
import Store
import Supervisor
import Testing

@Suite("Bearer authentication")
struct AuthTests {
    @Test func aValidKeyReachesWhoAmI() async throws {
        try await withDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("acme")
            let response = try await daemon.http("GET", "/v1/whoami", headers: bearer(token))
            #expect(response.status == 200)
            let json = try #require(response.json)
            #expect((json["tenant"] as? [String: Any])?["id"] as? String == tenant.id)
            #expect((json["tenant"] as? [String: Any])?["status"] as? String == "active")
            #expect(json["request_id"] as? String == response.header("X-Request-Id"))
        }
    }

    @Test func missingOrMisshapenCredentialsAre401() async throws {
        try await withDaemon { daemon in
            let missing = try await daemon.http("GET", "/v1/whoami")
            #expect(missing.status == 401)
            #expect(missing.errorCode == "unauthenticated")
            #expect(missing.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)

            let basic = try await daemon.http("GET", "/v1/whoami", headers: [("Authorization", "Basic YTpi")])
            #expect(basic.status == 401)

            let unknown = try await daemon.http(
                "GET", "/v1/whoami", headers: bearer("wdn_k_0123456789abcdef_0123456789012345678901234567890123456789"))
            #expect(unknown.status == 401)
            #expect(unknown.errorMessage == "unknown or revoked API key")

            let garbage = try await daemon.http("GET", "/v1/whoami", headers: bearer("not-a-key"))
            #expect(garbage.status == 401)
        }
    }

    @Test func aRevokedKeyIs401AtOnceWhileOtherKeysKeepWorking() async throws {
        try await withDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("acme")
            let second = try await daemon.admin.issueKey(for: tenant.name)
            #expect(try await daemon.http("GET", "/v1/whoami", headers: bearer(token)).status == 200)

            let keyID = try #require(APIKeyToken(parsing: token)?.keyID)
            _ = try await daemon.admin.revokeKey(keyID)
            #expect(try await daemon.http("GET", "/v1/whoami", headers: bearer(token)).status == 401)
            #expect(try await daemon.http("GET", "/v1/whoami", headers: bearer(second.token)).status == 200)
        }
    }

    @Test func aSuspendedTenantGets403UntilResumed() async throws {
        try await withDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("acme")
            _ = try await daemon.admin.suspendTenant(tenant.name)
            let refused = try await daemon.http("GET", "/v1/whoami", headers: bearer(token))
            #expect(refused.status == 403)
            #expect(refused.errorCode == "tenant_suspended")

            _ = try await daemon.admin.resumeTenant(tenant.id)
            #expect(try await daemon.http("GET", "/v1/whoami", headers: bearer(token)).status == 200)
        }
    }

    @Test func aDeletedTenantsKeysAre401() async throws {
        try await withDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("acme")
            _ = try await daemon.admin.deleteTenant(tenant.name)
            let refused = try await daemon.http("GET", "/v1/whoami", headers: bearer(token))
            #expect(refused.status == 401)
            #expect(refused.errorCode == "unauthenticated")
        }
    }
}
