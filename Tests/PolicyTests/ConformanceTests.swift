import Foundation
import Testing

/// Runs OPA's conformance cases (`../shared/conformance/opa/run.py`) against the built
/// `warden` binary and fails when any tier passes fewer cases than it did when the
/// thresholds were last raised, so every regression shows.
@Suite("OPA conformance", .serialized)
struct ConformanceTests {
    /// Cases passing per tier at the last raise of the bar.
    static let minimumPassing: [Int: Int] = [1: 881, 2: 468]

    static var packageRoot: URL {
        // Tests/PolicyTests/ConformanceTests.swift → the directory holding Package.swift.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The `warden` binary: next to the test bundle, or in the package's build folders.
    static func findWarden() -> URL? {
        var candidates: [URL] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
            for _ in 0..<4 {
                candidates.append(dir.appendingPathComponent("warden"))
                dir = dir.deletingLastPathComponent()
            }
        }
        for scratch in [".build-policy", ".build"] {
            candidates.append(packageRoot.appendingPathComponent("\(scratch)/debug/warden"))
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    @Test("tier 1 and tier 2 pass at least as many cases as before")
    func conformance() async throws {
        let runner = Self.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance/opa/run.py")
        try #require(FileManager.default.fileExists(atPath: runner.path),
                     "conformance runner missing at \(runner.path)")
        let warden = try #require(Self.findWarden(),
                                  "warden binary not found: build it with `swift build --product warden` first")
        let process = Process()
        // A batch of 1,351 processes: niced, so that the daemons the other tests
        // run in this process (and their heartbeats) keep the CPU they need.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nice")
        // {input_term_args} lets the cases whose input is a Rego term (sets) run too.
        let command = "'\(warden.path)' policy eval --format json {data_args} {input_args} {input_term_args} {strict_args} {query}"
        process.arguments = ["-n", "10", "/usr/bin/python3", runner.path, "--by-tier", "--tier", "1,2", "-j", "2", "--cmd", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        // The run takes tens of seconds: waited for on a thread of its own, so that it does not hold one
        // of the few threads of Swift's cooperative pool that every other test of the run shares.
        let output = await withCheckedContinuation { (done: CheckedContinuation<String, Never>) in
            Thread.detachNewThread {
                let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                done.resume(returning: text)
            }
        }
        #expect(process.terminationStatus == 0 || output.contains("tier 1:"), "runner failed:\n\(output)")

        var passed: [Int: Int] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("tier ") {
            // "tier 1: 760 passed, 89 failed, 33 skipped"
            let words = line.split(separator: " ")
            guard words.count >= 3, let tier = Int(words[1].dropLast()), let count = Int(words[2]) else { continue }
            passed[tier] = count
        }
        for (tier, minimum) in Self.minimumPassing.sorted(by: { $0.key < $1.key }) {
            let got = try #require(passed[tier], "no count for tier \(tier) in runner output:\n\(output)")
            #expect(got >= minimum, "tier \(tier): \(got) passed, expected at least \(minimum)\n\(output)")
        }
    }
}
