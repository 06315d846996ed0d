import Foundation
import Supervisor
import Testing

/// The real `warden` binary, built next to this test bundle, driven as an
/// operator would: serve, create a tenant, issue a key, call the API.
@Suite("warden serve end to end")
struct EndToEndTests {
    static var wardenBinary: String? {
        guard let testBinary = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return nil
        }
        let candidate = URL(fileURLWithPath: testBinary).deletingLastPathComponent().appendingPathComponent("warden").path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }

    @Test func serveCreateTenantIssueKeyAndCallWhoAmI() async throws {
        let warden = try #require(Self.wardenBinary, "the warden executable should be built next to the test bundle")
        let directory = try TemporaryDirectory()
        let stateDirectory = directory.path + "/state"
        let logPath = directory.path + "/serve.log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))

        // File < environment < flags: the file's port and log format are both overridden.
        let configFile = directory.path + "/warden.toml"
        try "[http]\nport = 65000\n[log]\nformat = \"text\"\n".write(toFile: configFile, atomically: true, encoding: .utf8)
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: warden)
        serve.arguments = ["serve", "--config", configFile, "--state-dir", stateDirectory, "--port", "0"]
        serve.environment = ProcessInfo.processInfo.environment.merging(["WARDEN_LOG_FORMAT": "json"]) { _, new in new }
        serve.standardOutput = log
        serve.standardError = log
        try serve.run()
        defer {
            if serve.isRunning { serve.terminate() }
        }

        let admin = AdminClient(stateDirectory: stateDirectory, timeout: .seconds(5))
        var status: AdminAPI.Status?
        for _ in 0..<300 where status == nil {
            status = try? await admin.status()
            if status == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let running = try #require(status, "warden serve did not come up; log:\n\(Self.read(logPath))")
        let port = try #require(running.httpAddress.split(separator: ":").last.flatMap { Int($0) })
        #expect(port > 0 && port != 65000)
        let firstLogLine = Self.read(logPath).split(separator: "\n").first.map(String.init) ?? ""
        #expect((try? JSONSerialization.jsonObject(with: Data(firstLogLine.utf8))) != nil, "not JSON: \(firstLogLine)")

        let created = try await runOffPool(warden, ["tenant", "create", "demo", "--state-dir", stateDirectory])
        #expect(created.status == 0)
        #expect(created.output.contains("demo"))

        let issued = try await runOffPool(warden, ["key", "issue", "demo", "--json", "--state-dir", stateDirectory])
        #expect(issued.status == 0)
        let issuedJSON = try #require(try JSONSerialization.jsonObject(with: Data(issued.output.utf8)) as? [String: Any])
        let token = try #require(issuedJSON["token"] as? String)

        let whoami = try await LocalHTTPClient.send("GET", "/v1/whoami", to: .tcp(host: "127.0.0.1", port: port),
                                                    headers: bearer(token))
        #expect(whoami.status == 200)
        #expect(((whoami.json?["tenant"] as? [String: Any])?["name"] as? String) == "demo")

        let listed = try await runOffPool(warden, ["tenant", "list", "--state-dir", stateDirectory])
        #expect(listed.output.hasPrefix("ID"))
        #expect(listed.output.contains("demo"))

        // SIGTERM: a graceful stop that removes the socket and exits 0.
        serve.terminate()
        // Waited for on a thread of its own, not on the cooperative pool.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                serve.waitUntilExit()
                done.resume()
            }
        }
        #expect(serve.terminationStatus == 0, "log:\n\(Self.read(logPath))")
        #expect(!FileManager.default.fileExists(atPath: StateLayout(root: stateDirectory).adminSocket))

        let afterStop = try await runOffPool(warden, ["tenant", "list", "--state-dir", stateDirectory])
        #expect(afterStop.status != 0)
    }

    static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? "(no log)"
    }
}
