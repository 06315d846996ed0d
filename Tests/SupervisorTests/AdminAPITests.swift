import Foundation
import Store
import Supervisor
import Testing

@Suite("Admin API: tenants and keys")
struct AdminAPITests {
    @Test func tenantLifecycleThroughTheAdminSocket() async throws {
        try await withDaemon { daemon in
            let admin = daemon.admin
            let tenant = try await admin.createTenant(name: "acme", plan: "pro")
            #expect(tenant.plan == "pro" && tenant.status == .active)

            // The workspace exists, private, and in root mode owned by the payload uid.
            let workspace = StateLayout(root: daemon.stateDirectory).workspace(tenant.id)
            let attributes = try FileManager.default.attributesOfItem(atPath: workspace)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)
            if geteuid() == 0 {
                let owner = (attributes[.ownerAccountID] as? NSNumber)?.int64Value
                #expect(owner == tenant.hostIDBase + TenantService.payloadIDOffset)
            }

            #expect(try await admin.tenant("acme") == tenant)
            #expect(try await admin.tenant(tenant.id) == tenant)
            #expect(try await admin.listTenants().map(\.id) == [tenant.id])

            #expect(try await admin.suspendTenant("acme").status == .suspended)
            #expect(try await admin.resumeTenant("acme").status == .active)

            let issued = try await admin.issueKey(for: "acme")
            #expect(issued.tenant.id == tenant.id)
            #expect(try await admin.listKeys(of: "acme").map(\.id) == [issued.key.id])
            #expect(try await admin.listKeys(of: nil).count == 1)

            let deleted = try await admin.deleteTenant("acme")
            #expect(deleted.status == .deleted)
            #expect(!FileManager.default.fileExists(atPath: workspace))
            #expect(try await admin.listKeys(of: tenant.id).allSatisfy(\.isRevoked))
            #expect(try await admin.tenant(tenant.id).status == .deleted)
            #expect(try await admin.listTenants().isEmpty)
            #expect(try await admin.listTenants(includeDeleted: true).count == 1)
            await #expect(throws: AdminClientError.self) { try await admin.tenant("acme") }
        }
    }

    @Test func refusalsCarryTheirStatusAndCode() async throws {
        try await withDaemon { daemon in
            let admin = daemon.admin
            let tenant = try await admin.createTenant(name: "acme", plan: nil)

            await #expect(throws: AdminClientError.refused(status: 409, code: "conflict",
                                                           message: "a tenant named 'acme' already exists")) {
                try await admin.createTenant(name: "acme", plan: nil)
            }
            await #expect { try await admin.createTenant(name: "Bad Name", plan: nil) } throws: { error in
                guard case AdminClientError.refused(422, "invalid_field", _) = error else { return false }
                return true
            }
            await #expect { try await admin.tenant("nobody") } throws: { error in
                guard case AdminClientError.refused(404, "not_found", _) = error else { return false }
                return true
            }
            _ = try await admin.deleteTenant(tenant.id)
            await #expect { try await admin.resumeTenant(tenant.id) } throws: { error in
                guard case AdminClientError.refused(409, "conflict", _) = error else { return false }
                return true
            }
            await #expect { try await admin.issueKey(for: tenant.id) } throws: { error in
                guard case AdminClientError.refused(409, _, _) = error else { return false }
                return true
            }
        }
    }

    @Test func malformedJSONIs400AndAWrongShapeIs422NamingTheField() async throws {
        try await withDaemon { daemon in
            let socket = StateLayout(root: daemon.stateDirectory).adminSocket
            func post(_ text: String) async throws -> LocalHTTPClient.Response {
                try await LocalHTTPClient.send("POST", "/v1/tenants", to: .unixSocket(path: socket),
                                               headers: [("Content-Type", "application/json")], body: Data(text.utf8))
            }
            let broken = try await post("{\"name\": ")
            #expect(broken.status == 400)
            #expect(broken.errorCode == "malformed_json")
            #expect(broken.errorMessage?.contains("not valid JSON") == true)

            let empty = try await post("")
            #expect(empty.status == 400)

            let missing = try await post("{\"plan\": \"pro\"}")
            #expect(missing.status == 422)
            #expect(missing.errorMessage == "missing field 'name'")

            let mistyped = try await post("{\"name\": 12}")
            #expect(mistyped.status == 422)
            #expect(mistyped.errorMessage == "'name' must be a string")
        }
    }

    @Test func aChunkedBodyPastTheLimitIs413() async throws {
        try await withDaemon { daemon in
            let socket = StateLayout(root: daemon.stateDirectory).adminSocket
            let huge = "{\"name\": \"" + String(repeating: "a", count: 2 * 1024 * 1024) + "\"}"
            let response = try await LocalHTTPClient.send(
                "POST", "/v1/tenants", to: .unixSocket(path: socket),
                headers: [("Transfer-Encoding", "chunked")], body: Data(huge.utf8))
            #expect(response.status == 413)
            #expect(response.errorCode == "body_too_large")
        }
    }

    @Test func theCLIsClientSaysClearlyWhenNoDaemonRuns() async throws {
        let directory = try TemporaryDirectory()
        await #expect { try await AdminClient(stateDirectory: directory.path).listTenants() } throws: { error in
            guard case AdminClientError.daemonNotRunning = error else { return false }
            return "\(error)".contains("warden serve --state-dir")
        }
    }

    @Test func aSecondDaemonOnTheSameStateDirectoryIsRefused() async throws {
        try await withDaemon { daemon in
            var configuration = SupervisorConfiguration()
            configuration.stateDirectory = daemon.stateDirectory
            configuration.port = 0
            #expect { _ = try Daemon(configuration: configuration, logger: daemon.logs.logger, handleSignals: false) }
                throws: { "\($0)".contains("already running") }
        }
    }
}
