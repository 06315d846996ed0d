import Foundation
import Testing
@testable import Store

/// The back ends the store tests run against: SQLite always, PostgreSQL when
/// `WARDEN_TEST_POSTGRES` holds a connection string (scripts/test.sh sets it).
enum Backend: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgresql

    static let postgresURL: String? = ProcessInfo.processInfo.environment["WARDEN_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }

    static var all: [Backend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgresql] }

    var testDescription: String { rawValue }
}

/// A fresh store: a new SQLite file, or a new PostgreSQL database created for
/// the test and dropped after it.
final class StoreFixture: @unchecked Sendable {
    let backend: Backend
    let hostIDRanges: HostIDRanges
    /// The SQLite file's directory.
    let directory: TemporaryDirectory?
    /// The PostgreSQL database's name.
    let database: String?
    private(set) var store: any Store
    private var others: [any Store] = []

    init(_ backend: Backend, hostIDRanges: HostIDRanges = .default) async throws {
        self.backend = backend
        self.hostIDRanges = hostIDRanges
        switch backend {
        case .sqlite:
            let directory = try TemporaryDirectory()
            self.directory = directory
            database = nil
            store = try SQLiteStore(path: directory.databasePath, hostIDRanges: hostIDRanges)
        case .postgresql:
            let name = "warden_test_" + RandomID.string(length: 12)
            try await Self.admin("CREATE DATABASE \(name)")
            directory = nil
            database = name
            store = try await PostgresStore.open(connection: Self.url, parameters: ["dbname": name],
                                                 hostIDRanges: hostIDRanges)
        }
    }

    static var url: String { Backend.postgresURL ?? "" }

    /// Another store on the same data: a reopened file, or a second node.
    func openAnother() async throws -> any Store {
        let another: any Store
        if let directory {
            another = try SQLiteStore(path: directory.databasePath, hostIDRanges: hostIDRanges)
        } else {
            another = try await PostgresStore.open(connection: Self.url, parameters: ["dbname": database ?? ""],
                                                   hostIDRanges: hostIDRanges)
        }
        others.append(another)
        return another
    }

    func tearDown() async {
        for store in others + [store] { try? await store.close() }
        if let database { _ = try? await Self.admin("DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
    }

    /// Runs SQL on the server named by WARDEN_TEST_POSTGRES, from a thread of
    /// its own; returns the column `value` of each row, if there is one.
    @discardableResult
    static func admin(_ sql: String, database: String? = nil) async throws -> [String] {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    let connection = try PostgresConnection(url, parameters: database.map { ["dbname": $0] } ?? [:])
                    return try connection.execute(sql).rows.compactMap { try? $0.string("value") }
                })
            }.start()
        }
    }
}

/// Runs `body` with a fresh store of `backend`, and removes it afterwards, also when the body fails.
func withFixture(_ backend: Backend, hostIDRanges: HostIDRanges = .default,
                 _ body: (StoreFixture) async throws -> Void) async throws {
    let fixture = try await StoreFixture(backend, hostIDRanges: hostIDRanges)
    do {
        try await body(fixture)
    } catch {
        await fixture.tearDown()
        throw error
    }
    await fixture.tearDown()
}

func withStore(_ backend: Backend, hostIDRanges: HostIDRanges = .default,
               _ body: (any Store) async throws -> Void) async throws {
    try await withFixture(backend, hostIDRanges: hostIDRanges) { try await body($0.store) }
}
