import Foundation
import Store
import Supervisor
import TestKit
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Helpers for tests over real HTTP with real workers in real jails.
enum Live {
    /// A binary built beside this test bundle (`warden`, `warden-worker`).
    static func builtBinary(_ name: String) -> String? {
        guard let testBinary = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let candidate = URL(fileURLWithPath: testBinary).deletingLastPathComponent().appendingPathComponent(name).path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }

    static var isRoot: Bool { geteuid() == 0 }

    /// The repository's policies folder (seccomp profiles), found from this file.
    static var policies: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("policies").path
    }

    static func json(_ object: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
    }

    /// Pids of live processes whose command line contains `needle`.
    static func processes(containing needle: String) -> [Int32] { ProcessTree.matching(needle) }

    /// The parent pid of a process, or nil when it is gone.
    static func parent(of pid: Int32) -> Int32? { ProcessTree.parent(of: pid) }

    /// Every descendant of `root` (children, grandchildren, ...).
    static func descendants(of root: Int32) -> [Int32] { ProcessTree.descendants(of: root) }

    /// What each open descriptor of a process refers to (`socket:[123]`, a path, …).
    static func descriptors(of pid: Int32) -> [String] {
        let dir = "/proc/\(pid)/fd"
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).compactMap {
            try? FileManager.default.destinationOfSymbolicLink(atPath: "\(dir)/\($0)")
        }
    }

    static func isAlive(_ pid: Int32) -> Bool { ProcessTree.isAlive(pid) }

    /// Tenant cgroup directories (`<hierarchy>/warden/tenants/*`) whose name mentions `tenantID`.
    static func tenantCgroups(_ tenantIDs: [String]) -> [String] {
        let root = "/sys/fs/cgroup"
        var hierarchies = [root]
        hierarchies += ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).map { "\(root)/\($0)" }
        var found: [String] = []
        for hierarchy in hierarchies {
            let dir = "\(hierarchy)/warden/tenants"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            where tenantIDs.contains(where: { name.contains($0) }) {
                found.append("\(dir)/\(name)")
            }
        }
        return found
    }

    /// Polls until `condition` holds or the time is up; true when it held.
    static func eventually(within seconds: Double = 20, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }
}

/// An in-process daemon with workers, like `withDaemon` but configurable.
func withLiveDaemon(_ configure: (inout SupervisorConfiguration) -> Void = { _ in },
                    now: @escaping @Sendable () -> Date = Date.init,
                    _ body: (RunningDaemon) async throws -> Void) async throws {
    _ = try #require(Live.builtBinary("warden-worker"),
                     "warden-worker must be built beside the test bundle (swift build --product warden-worker)")
    // Live tests send bodies of several MiB (file uploads): the default limit applies.
    try await withDaemon(maxBodyBytes: SupervisorConfiguration().maxBodyBytes, configure: configure, now: now, body)
}

extension RunningDaemon {
    /// `POST /v1/exec` with a JSON object, generous timeout.
    func exec(_ token: String, _ request: [String: Any], stream: Bool = false,
              timeout: Duration = .seconds(90)) async throws -> LocalHTTPClient.Response {
        var headers = bearer(token) + [("Content-Type", "application/json")]
        if stream { headers.append(("Accept", "text/event-stream")) }
        return try await LocalHTTPClient.send("POST", "/v1/exec", to: .tcp(host: "127.0.0.1", port: port),
                                              headers: headers, body: Live.json(request), timeout: timeout)
    }

    /// Runs code and returns the result document; the call must succeed.
    func run(_ token: String, _ language: String, _ code: String,
             sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let response = try await exec(token, ["language": language, "code": code])
        #expect(response.status == 200, "exec answered \(response.status): \(String(decoding: response.body, as: UTF8.self))",
                sourceLocation: sourceLocation)
        return try #require(response.json, sourceLocation: sourceLocation)
    }

    func files(_ method: String, _ path: String, token: String, body: Data? = nil) async throws -> LocalHTTPClient.Response {
        try await LocalHTTPClient.send(method, path, to: .tcp(host: "127.0.0.1", port: port),
                                       headers: bearer(token), body: body, timeout: .seconds(60))
    }

    /// The pid the admin API reports for the tenant's worker, when one runs.
    func workerPID(_ tenantID: String) async throws -> Int32? {
        try await admin.workers().first { $0.tenantID == tenantID && $0.state == "running" }?.pid
    }
}

/// `warden serve` as a child process (optionally as another user).
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let stateDirectory: String
    let logPath: String

    init(binary: String, stateDirectory: String, logPath: String, prefix: [String] = [],
         environment: [String: String] = [:], arguments: [String] = []) throws {
        self.stateDirectory = stateDirectory
        self.logPath = logPath
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        if prefix.isEmpty {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["serve", "--state-dir", stateDirectory, "--host", "127.0.0.1", "--port", "0"]
        } else {
            process.executableURL = URL(fileURLWithPath: prefix[0])
            process.arguments = Array(prefix.dropFirst()) + [binary, "serve", "--state-dir", stateDirectory,
                                                             "--host", "127.0.0.1", "--port", "0"]
        }
        process.arguments = (process.arguments ?? []) + arguments
        var env = ProcessInfo.processInfo.environment
        env["WARDEN_POLICIES"] = Live.policies
        env["WARDEN_LOG_FORMAT"] = "text"
        env.merge(environment) { _, new in new }
        process.environment = env
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "(no log)" }

    /// The tenant API's port, once the admin socket answers.
    func waitForPort(seconds: Double = 60) async -> Int? {
        let admin = AdminClient(stateDirectory: stateDirectory, timeout: .seconds(5))
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, process.isRunning {
            if let status = try? await admin.status(),
               let port = status.httpAddress.split(separator: ":").last.flatMap({ Int($0) }), port > 0 {
                return port
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGTERM, then SIGKILL if it does not stop within the grace. The waiting
    /// happens on a thread of its own: tests call this from `defer` in async
    /// code, and blocking a thread of Swift's small cooperative pool for
    /// seconds would stall every in-process daemon of the test run.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let process = self.process
        Thread.detachNewThread { Self.reap(process) }
    }

    /// `stop()`, waiting until the process has exited (off the cooperative pool).
    func stopAndWait() async {
        guard process.isRunning else { return }
        process.terminate()
        let process = self.process
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                Self.reap(process)
                done.resume()
            }
        }
    }

    private static func reap(_ process: Process) {
        // Longer than the daemon's own bounds on a stop (the workers' grace, a
        // hard kill of those left, the cgroup janitor), so that a slow stop on a
        // loaded machine shows as what it is, not as a kill from here.
        let deadline = Date().addingTimeInterval(45)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// Parsed server-sent events: (event, data) in the order they came.
func serverSentEvents(_ body: Data) -> [(event: String, data: String)] {
    let text = String(decoding: body, as: UTF8.self)
    var events: [(String, String)] = []
    for block in text.components(separatedBy: "\n\n") where !block.isEmpty {
        var name = "message"
        var data: [String] = []
        for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("event:") { name = line.dropFirst(6).trimmingCharacters(in: .whitespaces) }
            if line.hasPrefix("data:") { data.append(String(line.dropFirst(5)).trimmingCharacters(in: .whitespaces)) }
        }
        events.append((name, data.joined(separator: "\n")))
    }
    return events
}
