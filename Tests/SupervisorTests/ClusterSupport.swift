import Foundation
import Sandbox
import Store
import Supervisor
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL server of a test's own (scripts/postgres.sh in a directory
/// of its own), so that a test may stop and start it.
struct TestPostgres {
    let directory = "/tmp/warden-pg-nodes-" + RandomID.string(length: 8)
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/postgres.sh").path

    /// `start`, `down`, `up` or `stop`; returns what the script printed. Run
    /// through ToolProcess (no descriptor of ours reaches it), with its output
    /// in a file: a server it starts must not inherit a pipe we wait on.
    @discardableResult
    func run(_ command: String) async throws -> String {
        let output = directory + ".out"
        defer { unlink(output) }
        let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" } + ["WARDEN_PG_DIR=\(directory)"]
        let line = "exec >'\(output)' 2>&1; exec /bin/bash '\(Self.script)' \(command)"
        let status = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try ToolProcess.run("/bin/bash", ["-c", line], environment: environment).status })
            }
        }
        let text = ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard status == 0 else { throw StoreError.invalid("scripts/postgres.sh \(command) failed: \(text)") }
        return text
    }
}

/// Three `warden serve` processes (real ones, each with its own port and
/// state directory) sharing one PostgreSQL database, with short heartbeats.
final class NodeCluster: @unchecked Sendable {
    static let heartbeatMs = 500
    static let leaseTTLMs = 3000

    let store: String
    let binary: String
    private(set) var nodes: [ServeProcess] = []
    private(set) var ports: [Int] = []
    private let directories: [TemporaryDirectory]

    init(store: String, count: Int = 3) async throws {
        self.store = store
        binary = try #require(Live.builtBinary("warden"), "warden must be built beside the test bundle")
        directories = try (0..<count).map { _ in try TemporaryDirectory() }
        for index in 0..<count {
            var arguments = ["--store", store, "--node-id", Self.name(index), "--heartbeat-ms", String(Self.heartbeatMs),
                             "--lease-ttl-ms", String(Self.leaseTTLMs), "--shutdown-grace", "5"]
            // The last node says where it is; the others let it be derived from the bound port.
            if index == count - 1 {
                let port = try Self.freePort()
                arguments += ["--port", String(port), "--advertise", "http://127.0.0.1:\(port)"]
            }
            let directory = directories[index].path
            nodes.append(try ServeProcess(binary: binary, stateDirectory: directory + "/state", logPath: directory + "/log",
                                          arguments: arguments))
        }
        for node in nodes {
            guard let port = await node.waitForPort() else {
                stop()
                Issue.record("a node did not start: \(node.log)")
                throw StoreError.unavailable("a node did not start")
            }
            ports.append(port)
        }
    }

    static func name(_ index: Int) -> String { "node-\(index + 1)" }

    func index(of name: String?) -> Int? { (0..<nodes.count).first { Self.name($0) == name } }

    func admin(_ index: Int) -> AdminClient { AdminClient(stateDirectory: nodes[index].stateDirectory, timeout: .seconds(60)) }

    /// Pids of the node processes, by node name (for telling whose workers are whose).
    var nodePIDs: [Int32: String] {
        Dictionary(uniqueKeysWithValues: nodes.indices.map { (nodes[$0].pid, Self.name($0)) })
    }

    func tenantWithKey(_ name: String, plan: String = "pro") async throws -> (Tenant, String) {
        let tenant = try await admin(0).createTenant(name: name, plan: plan)
        return (tenant, try await admin(0).issueKey(for: tenant.id).token)
    }

    func send(_ method: String, _ path: String, via index: Int, token: String, body: Data? = nil,
              headers: [(String, String)] = [], timeout: Duration = .seconds(60),
              onBody: (@Sendable (Data) -> Void)? = nil) async throws -> LocalHTTPClient.Response {
        try await LocalHTTPClient.send(method, path, to: .tcp(host: "127.0.0.1", port: ports[index]),
                                       headers: bearer(token) + headers, body: body, timeout: timeout, onBody: onBody)
    }

    func exec(via index: Int, token: String, _ request: [String: Any], headers: [(String, String)] = [],
              stream: Bool = false, onBody: (@Sendable (Data) -> Void)? = nil) async throws -> LocalHTTPClient.Response {
        var all = headers + [("Content-Type", "application/json")]
        if stream { all.append(("Accept", "text/event-stream")) }
        return try await send("POST", "/v1/exec", via: index, token: token, body: Live.json(request), headers: all,
                              onBody: onBody)
    }

    func stop() {
        for node in nodes { node.stop() }
    }

    func stopAndWait() async {
        for node in nodes { await node.stopAndWait() }
    }

    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw StoreError.unavailable("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Runs `body` with a cluster on a fresh PostgreSQL of its own, and stops both however it ends.
func withNodeCluster(_ body: (NodeCluster, TestPostgres) async throws -> Void) async throws {
    let postgres = TestPostgres()
    let url = try await postgres.run("start").split(separator: "\n").last.map(String.init) ?? ""
    do {
        let cluster = try await NodeCluster(store: url)
        do {
            try await body(cluster, postgres)
        } catch {
            await cluster.stopAndWait()
            throw error
        }
        await cluster.stopAndWait()
    } catch {
        _ = try? await postgres.run("stop")
        throw error
    }
    try await postgres.run("stop")
}

/// Watches, on a thread of its own, which nodes run each tenant's worker,
/// and remembers every moment a tenant had worker processes under two nodes.
final class WorkerSampler: @unchecked Sendable {
    private let state = Mutex<(samples: Int, doubled: [String], seen: Set<String>)>((0, [], []))
    private let running = Atomic<Bool>(true)
    private let done = DispatchSemaphore(value: 0)

    init(tenants: [String], nodePIDs: [Int32: String]) {
        Thread.detachNewThread { [self] in
            while running.load(ordering: .relaxed) {
                let owners = Self.workerNodes(tenants: tenants, nodePIDs: nodePIDs)
                state.withLock { state in
                    state.samples += 1
                    state.seen.formUnion(owners.keys)
                    for (tenant, nodes) in owners where nodes.count > 1 {
                        state.doubled.append("\(tenant) on \(nodes.sorted().joined(separator: " and "))")
                    }
                }
                usleep(50_000)
            }
            done.signal()
        }
    }

    /// Stops sampling; returns how many samples were taken, what was doubled,
    /// and the tenants whose workers it saw at all (proof that it looks at the right processes).
    func stop() -> (samples: Int, doubled: [String], seen: Set<String>) {
        running.store(false, ordering: .relaxed)
        done.wait()
        return state.withLock { $0 }
    }

    /// The nodes whose process trees hold a worker (`warden-worker --tenant ID`) of each tenant now.
    static func workerNodes(tenants: [String], nodePIDs: [Int32: String]) -> [String: Set<String>] {
        var owners: [String: Set<String>] = [:]
        for tenant in tenants {
            for pid in Live.processes(containing: "warden-worker --tenant \(tenant)") {
                var current: Int32? = pid
                var hops = 0
                while let step = current, hops < 64 {
                    if let node = nodePIDs[step] {
                        owners[tenant, default: []].insert(node)
                        break
                    }
                    current = Live.parent(of: step)
                    hops += 1
                }
            }
        }
        return owners
    }
}
