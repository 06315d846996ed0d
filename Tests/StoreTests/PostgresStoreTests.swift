import Foundation
import Testing
@testable import Store

@Suite("PostgreSQL store", .enabled(if: Backend.postgresURL != nil, "WARDEN_TEST_POSTGRES is not set"))
struct PostgresStoreTests {
    @Test func aNewDatabaseRecordsEveryMigrationAndTheDefaultPlans() async throws {
        try await withFixture(.postgresql) { fixture in
            let applied = try await StoreFixture.admin("SELECT version AS value FROM warden_migrations ORDER BY version",
                                                       database: fixture.database)
            #expect(applied == PostgresMigrations.versions)
            #expect(try await fixture.store.listPlans().map(\.name) == ["creator", "free", "pro"])
            #expect(try await fixture.store.plan(named: "free")?.limits == Plan.defaults.first { $0.name == "free" }?.limits)
        }
    }

    @Test func nodesStartingTogetherMigrateOnce() async throws {
        let name = "warden_test_" + RandomID.string(length: 12)
        try await StoreFixture.admin("CREATE DATABASE \(name)")
        do {
            let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await PostgresStore.open(connection: StoreFixture.url, parameters: ["dbname": name]) }
                }
                return try await group.reduce(into: [PostgresStore]()) { $0.append($1) }
            }
            #expect(try await stores[0].listPlans().count == Plan.defaults.count)
            for store in stores { try await store.close() }
        } catch {
            _ = try? await StoreFixture.admin("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            throw error
        }
        try await StoreFixture.admin("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    @Test func aSchemaFromANewerWardenIsRefusedUntouched() async throws {
        try await withFixture(.postgresql) { fixture in
            try await StoreFixture.admin("INSERT INTO warden_migrations VALUES ('v99-from-the-future', 0)",
                                         database: fixture.database)
            await #expect {
                _ = try await fixture.openAnother()
            } throws: { error in
                guard case StoreError.schemaTooNew(let database, let unknown, _) = error else { return false }
                return unknown == ["v99-from-the-future"] && database.contains(fixture.database ?? "?")
                    && "\(error)".contains("newer Warden")
            }
            let applied = try await StoreFixture.admin("SELECT version AS value FROM warden_migrations ORDER BY version",
                                                       database: fixture.database)
            #expect(applied == PostgresMigrations.versions + ["v99-from-the-future"])
        }
    }

    @Test func twoNodesReservingAgainstOneLimitLetExactlyTenThrough() async throws {
        try await withFixture(.postgresql) { fixture in
            let nodes = [fixture.store, try await fixture.openAnother()]
            let tenant = try await nodes[0].createTenant(name: "shared", plan: "free")
            let day = PeriodWindow(.day, containing: Date(), timeZone: "UTC")
            let outcomes = await withTaskGroup(of: ReservationOutcome?.self) { group in
                for i in 0..<100 {
                    group.addTask {
                        let request = ReservationRequest(
                            id: "res_" + RandomID.string(length: 12), tenantID: tenant.id, tool: "exec", requestID: "req_\(i)",
                            idempotencyKey: "key-\(i)", at: Date(),
                            charges: [Charge(metric: "exec.calls.day", periodStart: day.start, periodEnd: day.end, amount: 1,
                                             limit: Limit(10))],
                            concurrentLimit: nil)
                        return try? await nodes[i % 2].reserve(request)
                    }
                }
                return await group.reduce(into: [ReservationOutcome?]()) { $0.append($1) }
            }
            #expect(outcomes.filter { if case .reserved = $0 { return true }; return false }.count == 10)
            #expect(outcomes.filter { if case .exceeded = $0 { return true }; return false }.count == 90)
            let counter = try await nodes[1].counters(tenantID: tenant.id, [("exec.calls.day", day.start)])[0]
            #expect(counter.reserved == 10 && counter.used == 0)
            #expect(try await nodes[0].openReservations().count == 10)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func aCallDuringAnOutageFailsAsUnavailableAndTheNextOneAfterWorks() async throws {
        // A cluster of its own: stopping the shared one would fail the tests running beside this one.
        let cluster = ThrowawayCluster()
        let url = try await cluster.run("start")
        do {
            let store = try await PostgresStore.open(connection: url, connections: 2)
            let tenant = try await store.createTenant(name: "patient", plan: "free")
            // Both pooled connections are open before the outage.
            async let one = store.tenant(id: tenant.id)
            async let two = store.tenant(id: tenant.id)
            _ = try await (one, two)

            _ = try await cluster.run("down")
            await #expect {
                _ = try await store.tenant(id: tenant.id)
            } throws: { error in
                guard case StoreError.unavailable(let message) = error else { return false }
                return message.contains("PostgreSQL")
            }

            _ = try await cluster.run("up")
            #expect(try await store.tenant(id: tenant.id) == tenant)
            #expect(try await store.createTenant(name: "after", plan: "free").name == "after")
            try await store.close()
        } catch {
            _ = try? await cluster.run("stop")
            throw error
        }
        _ = try await cluster.run("stop")
    }
}

/// A second throwaway cluster through scripts/postgres.sh, in a directory of its own.
struct ThrowawayCluster {
    let directory = "/tmp/warden-pg-test-" + RandomID.string(length: 8)
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/postgres.sh").path

    /// Runs the script with `command` on a thread of its own; returns what it printed.
    func run(_ command: String) async throws -> String {
        let directory = self.directory
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    // Output goes to a file: the server the script starts may inherit a pipe and never close it.
                    // posix_spawn and waitpid: this thread waits, and nothing else is involved.
                    let output = FileManager.default.temporaryDirectory.appendingPathComponent("postgres-sh-\(UUID().uuidString)").path
                    defer { unlink(output) }
                    var actions = posix_spawn_file_actions_t()
                    posix_spawn_file_actions_init(&actions)
                    defer { posix_spawn_file_actions_destroy(&actions) }
                    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
                    let environment = ProcessInfo.processInfo.environment.merging(["WARDEN_PG_DIR": directory]) { $1 }
                    let words: [String] = ["/bin/bash", Self.script, command]
                    let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
                    let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
                    defer { (argv + envp).forEach { free($0) } }
                    var pid: pid_t = 0
                    guard posix_spawn(&pid, "/bin/bash", &actions, nil, argv, envp) == 0 else {
                        throw StoreError.invalid("cannot run scripts/postgres.sh")
                    }
                    var status: Int32 = 0
                    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                    guard status == 0 else {
                        throw StoreError.invalid("scripts/postgres.sh \(command) failed (wait status \(status))")
                    }
                    return try String(contentsOfFile: output, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                })
            }.start()
        }
    }
}
