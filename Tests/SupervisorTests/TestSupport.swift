import Foundation
import Logging
import Store
import Supervisor
import Testing

/// A short temp directory (the admin socket path must fit in 107 bytes),
/// removed when the test ends.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init() throws {
        path = "/tmp/warden-test-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Keeps log entries in memory so tests can look for request ids.
final class RecordedLogs: @unchecked Sendable {
    struct Entry {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    private let lock = NSLock()
    private var storage: [Entry] = []

    var entries: [Entry] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }

    func append(_ entry: Entry) {
        lock.lock()
        storage.append(entry)
        lock.unlock()
    }

    var logger: Logger {
        Logger(label: "warden-test") { _ in RecordingLogHandler(logs: self) }
    }
}

struct RecordingLogHandler: LogHandler {
    let logs: RecordedLogs
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        logs.append(.init(level: event.level, message: event.message.description,
                          metadata: metadata.merging(event.metadata ?? [:]) { _, new in new }))
    }
}

/// A real daemon on 127.0.0.1 with an ephemeral port, a real SQLite store and
/// admin socket in a temp state dir.
struct RunningDaemon: Sendable {
    let daemon: Daemon
    let port: Int
    let stateDirectory: String
    let logs: RecordedLogs

    var admin: AdminClient { AdminClient(stateDirectory: stateDirectory) }

    func http(_ method: String, _ path: String, headers: [(String, String)] = [],
              body: Data? = nil) async throws -> LocalHTTPClient.Response {
        try await LocalHTTPClient.send(method, path, to: .tcp(host: "127.0.0.1", port: port),
                                       headers: headers, body: body, timeout: .seconds(60))
    }

    /// A tenant with a fresh key, made through the admin API.
    /// The plan is `pro` unless said otherwise: its ceilings leave room for the long calls tests make.
    func tenantWithKey(_ name: String, plan: String = "pro") async throws -> (Tenant, String) {
        let tenant = try await admin.createTenant(name: name, plan: plan)
        let issued = try await admin.issueKey(for: tenant.id)
        return (tenant, issued.token)
    }
}

func withDaemon(maxBodyBytes: Int = 64 * 1024,
                configure: (inout SupervisorConfiguration) -> Void = { _ in },
                now: @escaping @Sendable () -> Date = Date.init,
                _ body: (RunningDaemon) async throws -> Void) async throws {
    let directory = try TemporaryDirectory()
    var configuration = SupervisorConfiguration()
    configuration.stateDirectory = directory.path
    configuration.port = 0
    configuration.maxBodyBytes = maxBodyBytes
    configuration.shutdownGraceSeconds = 5
    // Daemons in this process share its few cooperative threads with dozens
    // of others, and on a loaded machine their heartbeats can come seconds
    // late: a long lease keeps that from fencing workers in tests that are
    // not about leases. Those that are set their own timing.
    configuration.nodeLeaseTTLMs = 60_000
    configure(&configuration)
    let logs = RecordedLogs()
    let daemon = try Daemon(configuration: configuration, logger: logs.logger, handleSignals: false, now: now)
    let running = Task { try await daemon.run() }
    let port = await daemon.waitUntilListening()
    let admin = AdminClient(stateDirectory: configuration.stateDirectory)
    // The admin listener comes up alongside the tenant API; wait for it too.
    for _ in 0..<200 {
        if (try? await admin.status()) != nil { break }
        try await Task.sleep(for: .milliseconds(20))
    }
    do {
        try await body(RunningDaemon(daemon: daemon, port: port, stateDirectory: configuration.stateDirectory, logs: logs))
    } catch {
        await daemon.shutdown()
        _ = try? await running.value
        throw error
    }
    await daemon.shutdown()
    try await running.value
    withExtendedLifetime(directory) {}
}

extension LocalHTTPClient.Response {
    var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
    }

    /// `error.code` of the API's error shape.
    var errorCode: String? {
        (json?["error"] as? [String: Any])?["code"] as? String
    }

    var errorMessage: String? {
        (json?["error"] as? [String: Any])?["message"] as? String
    }
}

func bearer(_ token: String) -> [(String, String)] {
    [("Authorization", "Bearer \(token)")]
}
