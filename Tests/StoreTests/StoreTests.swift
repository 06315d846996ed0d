import Foundation
import Testing
@testable import Store

@Suite("Store: tenants")
struct TenantStoreTests {
    @Test(arguments: Backend.all)
    func createdTenantsGetIDsPlansAndDisjointHostRanges(_ backend: Backend) async throws {
        try await withStore(backend, hostIDRanges: HostIDRanges(base: 300_000, size: 1000)) { store in
            let first = try await store.createTenant(name: "acme", plan: Tenant.defaultPlan)
            let second = try await store.createTenant(name: "globex", plan: "pro")

            #expect(first.id.hasPrefix("t_") && first.id.count == 18)
            #expect(first.plan == "free" && second.plan == "pro")
            #expect(first.status == .active)
            #expect(first.hostIDBase == 300_000 && first.hostIDCount == 1000)
            #expect(second.hostIDBase == 301_000)
            #expect(try await store.tenant(id: first.id) == first)
            #expect(try await store.tenant(named: "globex") == second)
            #expect(try await store.listTenants(includeDeleted: false).map(\.name) == ["acme", "globex"])
        }
    }

    @Test(arguments: Backend.all)
    func liveNamesAreUniqueButADeletedTenantGivesItsNameBack(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let original = try await store.createTenant(name: "acme", plan: "free")
            await #expect(throws: StoreError.conflict("a tenant named 'acme' already exists")) {
                try await store.createTenant(name: "acme", plan: "free")
            }
            _ = try await store.setTenantStatus(id: original.id, to: .deleted)
            let replacement = try await store.createTenant(name: "acme", plan: "free")
            #expect(replacement.id != original.id)
            // The deleted tenant's range is never handed out again.
            #expect(replacement.hostIDBase == original.hostIDBase + original.hostIDCount)
            #expect(try await store.tenant(named: "acme")?.id == replacement.id)
            #expect(try await store.listTenants(includeDeleted: true).count == 2)
            #expect(try await store.listTenants(includeDeleted: false).count == 1)
        }
    }

    @Test(arguments: ["", "Acme", "t_lookslikeanid", "has space", "-leading", String(repeating: "a", count: 65), "ümlaut"])
    func badNamesAreRefused(name: String) async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.databasePath)
        await #expect(throws: StoreError.self) { try await store.createTenant(name: name, plan: "free") }
    }

    @Test(arguments: Backend.all)
    func statusMovesBothWaysUntilDeleted(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let tenant = try await store.createTenant(name: "acme", plan: "free")
            #expect(try await store.setTenantStatus(id: tenant.id, to: .suspended).status == .suspended)
            #expect(try await store.setTenantStatus(id: tenant.id, to: .suspended).status == .suspended)
            #expect(try await store.setTenantStatus(id: tenant.id, to: .active).status == .active)
            #expect(try await store.setTenantStatus(id: tenant.id, to: .deleted).status == .deleted)
            await #expect(throws: StoreError.self) { try await store.setTenantStatus(id: tenant.id, to: .active) }
            await #expect(throws: StoreError.notFound("no tenant with id t_missing")) {
                try await store.setTenantStatus(id: "t_missing", to: .active)
            }
        }
    }

    @Test(arguments: Backend.all)
    func concurrentCreatorsGetDisjointHostRanges(_ backend: Backend) async throws {
        try await withStore(backend, hostIDRanges: HostIDRanges(base: 400_000, size: 100)) { store in
            let bases = try await withThrowingTaskGroup(of: Int64.self) { group in
                for i in 0..<20 { group.addTask { try await store.createTenant(name: "racer-\(i)", plan: "free").hostIDBase } }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            #expect(bases.sorted() == (0..<20).map { 400_000 + Int64($0) * 100 })
        }
    }

    @Test func hostIDRangesStopBeforeTheLastUID() throws {
        let ranges = HostIDRanges(base: 200_000, size: 65_536)
        #expect(try ranges.nextBase(afterEnd: nil) == 200_000)
        #expect(try ranges.nextBase(afterEnd: 265_536) == 265_536)
        #expect(throws: StoreError.self) { try ranges.nextBase(afterEnd: Int64(UInt32.max) - 10) }
    }
}

@Suite("Store: API keys")
struct APIKeyStoreTests {
    @Test(arguments: Backend.all)
    func anIssuedKeyAuthenticatesItsTenantAndIsStoredOnlyAsAHash(_ backend: Backend) async throws {
        try await withFixture(backend) { fixture in
            let store = fixture.store
            let tenant = try await store.createTenant(name: "acme", plan: "free")
            let issued = try await store.issueKey(tenantID: tenant.id)

            #expect(issued.token.hasPrefix("wdn_k_"))
            #expect(issued.key.prefix.hasPrefix(String(issued.token.prefix(24))))
            #expect(issued.token.count > issued.key.prefix.count + 30)

            let authentication = try #require(try await store.authenticate(token: issued.token))
            #expect(authentication.tenant == tenant)
            #expect(authentication.key.id == issued.key.id)
            #expect(authentication.key.lastUsedAt != nil)
            try await store.close()

            // Neither the token nor its secret half is anywhere in the database.
            let secret = String(issued.token.split(separator: "_").last ?? "")
            if let directory = fixture.directory {
                for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
                    let bytes = try Data(contentsOf: URL(fileURLWithPath: directory.path + "/" + file))
                    #expect(bytes.range(of: Data(secret.utf8)) == nil, "secret found in \(file)")
                }
            } else {
                let rows = try await StoreFixture.admin("SELECT row_to_json(k)::text AS value FROM api_keys k",
                                                        database: fixture.database)
                #expect(rows.count == 1)
                #expect(rows.allSatisfy { !$0.contains(secret) })
            }
        }
    }

    @Test(arguments: Backend.all)
    func wrongMalformedAndRevokedTokensAuthenticateNobody(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let tenant = try await store.createTenant(name: "acme", plan: "free")
            let issued = try await store.issueKey(tenantID: tenant.id)

            var wrongSecret = issued.token
            wrongSecret.removeLast()
            wrongSecret.append(issued.token.last == "a" ? "b" : "a")
            #expect(try await store.authenticate(token: wrongSecret) == nil)
            #expect(try await store.authenticate(token: "") == nil)
            #expect(try await store.authenticate(token: "wdn_k_x_y") == nil)
            #expect(try await store.authenticate(token: issued.token + "x") == nil)

            let revoked = try await store.revokeKey(id: issued.key.id)
            #expect(revoked.revokedAt != nil)
            #expect(try await store.revokeKey(id: issued.key.id).revokedAt == revoked.revokedAt)
            #expect(try await store.authenticate(token: issued.token) == nil)
        }
    }

    @Test(arguments: Backend.all)
    func deletingATenantRevokesEveryKeyAndRefusesNewOnes(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let tenant = try await store.createTenant(name: "acme", plan: "free")
            let other = try await store.createTenant(name: "globex", plan: "free")
            let first = try await store.issueKey(tenantID: tenant.id)
            _ = try await store.issueKey(tenantID: tenant.id)
            let kept = try await store.issueKey(tenantID: other.id)

            _ = try await store.setTenantStatus(id: tenant.id, to: .deleted)
            #expect(try await store.listKeys(tenantID: tenant.id).allSatisfy(\.isRevoked))
            #expect(try await store.listKeys(tenantID: nil).count == 3)
            #expect(try await store.authenticate(token: first.token) == nil)
            #expect(try await store.authenticate(token: kept.token) != nil)
            await #expect(throws: StoreError.self) { try await store.issueKey(tenantID: tenant.id) }
        }
    }

    @Test(arguments: Backend.all)
    func aSuspendedTenantStillAuthenticatesSoTheCallerCanAnswer403(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let tenant = try await store.createTenant(name: "acme", plan: "free")
            let issued = try await store.issueKey(tenantID: tenant.id)
            _ = try await store.setTenantStatus(id: tenant.id, to: .suspended)
            #expect(try await store.authenticate(token: issued.token)?.tenant.status == .suspended)
        }
    }
}

@Suite("API key tokens")
struct APIKeyTokenTests {
    @Test func tokensRoundTripThroughParsing() throws {
        let token = APIKeyToken.generate()
        let parsed = try #require(APIKeyToken(parsing: token.token))
        #expect(parsed == token)
        #expect(parsed.hash == token.hash)
        #expect(token.hash.count == 32)
    }

    @Test(arguments: ["", "wdn_", "wdn_k__", "xyz_k_0123456789abcdef_0123456789012345678901234567890123456789",
                      "wdn_k_0123456789ABCDEF_0123456789012345678901234567890123456789",
                      "wdn_k_0123456789abcdef_012345678901234567890123456789012345678",
                      "wdn_k_0123456789abcdef_0123456789012345678901234567890123456789_extra"])
    func malformedTokensDoNotParse(token: String) {
        #expect(APIKeyToken(parsing: token) == nil)
    }

    @Test func constantTimeComparisonComparesEveryByte() {
        #expect(APIKeyToken.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!APIKeyToken.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!APIKeyToken.constantTimeEquals([9, 2, 3], [1, 2, 3]))
        #expect(!APIKeyToken.constantTimeEquals([1, 2], [1, 2, 3]))
    }
}

@Suite("Store locations")
struct StoreLocationTests {
    @Test func theSettingNamesABackEnd() throws {
        #expect(try StoreLocation(parsing: "sqlite") == .sqlite)
        #expect(try StoreLocation(parsing: "postgresql") == .postgres(""))
        #expect(try StoreLocation(parsing: "postgres://u@db:5432/warden?sslmode=require")
                == .postgres("postgres://u@db:5432/warden?sslmode=require"))
        #expect(try StoreLocation(parsing: "host=db dbname=warden") == .postgres("host=db dbname=warden"))
        #expect(throws: StoreError.self) { try StoreLocation(parsing: "mysql://db") }
    }

    @Test func passwordsStayOutOfLogs() {
        #expect(StoreLocation.postgres("postgresql://warden:s3cret@db/warden").description == "postgresql://warden:***@db/warden")
        #expect(StoreLocation.postgres("host=db password='a b' dbname=w").description == "host=db password=*** dbname=w")
        #expect(StoreLocation.postgres("postgres://db/w?password=x&sslmode=verify-full").description
                == "postgres://db/w?password=***&sslmode=verify-full")
    }
}
