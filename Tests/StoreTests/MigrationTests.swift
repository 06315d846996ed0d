import Foundation
import GRDB
import Testing
@testable import Store

@Suite("SQLite store: schema")
struct MigrationTests {
    @Test func aNewDatabaseIsMigratedAndInWALMode() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.databasePath)
        try await store.ping()
        try await store.close()

        let queue = try DatabaseQueue(path: directory.databasePath)
        let (journalMode, applied) = try await queue.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"),
             try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
        }
        #expect(journalMode == "wal")
        #expect(applied == SQLiteMigrations.migrator.migrations)
    }

    @Test func reopeningKeepsTheData() async throws {
        let directory = try TemporaryDirectory()
        let first = try SQLiteStore(path: directory.databasePath)
        let tenant = try await first.createTenant(name: "acme", plan: "free")
        try await first.close()

        let second = try SQLiteStore(path: directory.databasePath)
        #expect(try await second.tenant(id: tenant.id) == tenant)
        try await second.close()
    }

    @Test func aDatabaseFromBeforeNodesGainsTheirTablesAndKeepsItsOpenReservations() async throws {
        let directory = try TemporaryDirectory()
        let queue = try DatabaseQueue(path: directory.databasePath)
        try SQLiteMigrations.migrator.migrate(queue, upTo: "v3-plans-and-usage")
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO reservations (id, tenant_id, tool, request_id, idempotency_key, started_at, charges)
                VALUES ('res_old', 't_old', 'exec', 'req_old', 'key_old', 0, '[]')
                """)
        }
        try queue.close()

        let store = try SQLiteStore(path: directory.databasePath)
        #expect(try await store.openReservations().map { [$0.id, $0.nodeID ?? "none"] } == [["res_old", "none"]])
        #expect(try await store.listNodes().isEmpty)
        #expect(try await store.listLeases().isEmpty)
        try await store.close()
    }

    @Test func aSchemaFromANewerWardenIsRefusedUntouched() async throws {
        let directory = try TemporaryDirectory()
        try await SQLiteStore(path: directory.databasePath).close()
        let queue = try DatabaseQueue(path: directory.databasePath)
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        }
        try queue.close()

        #expect {
            _ = try SQLiteStore(path: directory.databasePath)
        } throws: { error in
            guard case StoreError.schemaTooNew(_, let unknown, _) = error else { return false }
            return unknown == ["v99-from-the-future"]
                && "\(error)".contains("newer Warden")
        }
    }
}
