import Foundation
import Sandbox
import Testing

/// Shared pieces of the jail tests: one Jail for all, the build directory,
/// and configurations for the common payloads.
enum Fixtures {
    static let jail: Jail = {
        do { return try Jail(cgroupParent: "warden-test") } catch { fatalError("cannot set up the jail: \(error)") }
    }()

    static let defaultProfile: SeccompProgram = {
        do { return try SeccompCompiler.compile(SeccompProfile.load(policies + "/seccomp/default.json")) } catch { fatalError("\(error)") }
    }()

    static let execProfile: SeccompProgram = {
        do { return try SeccompCompiler.compile(SeccompProfile.load(policies + "/seccomp/exec.json")) } catch { fatalError("\(error)") }
    }()

    static let browserProfile: SeccompProgram = {
        do { return try SeccompCompiler.compile(SeccompProfile.load(policies + "/seccomp/browser.json")) } catch { fatalError("\(error)") }
    }()

    /// The directory holding the built products (warden, syscall-probe).
    static let buildDirectory: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // The test bundle may sit inside PackageTests.xctest/…
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("warden").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.path
    }()

    static let packageRoot: String = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.path
    }()

    static var policies: String { packageRoot + "/policies" }
    static var warden: String { buildDirectory + "/warden" }
    static var probe: String { buildDirectory + "/syscall-probe" }

    static func config(_ argv: [String], seccomp: SeccompProgram? = defaultProfile) -> JailConfig {
        var c = JailConfig(command: argv[0], arguments: Array(argv.dropFirst()))
        c.seccomp = seccomp
        c.limits = Limits(memoryBytes: 512 << 20, pids: 256, wallTimeMs: 30_000)
        return c
    }

    static func sh(_ script: String, seccomp: SeccompProgram? = defaultProfile, _ adjust: (inout JailConfig) -> Void = { _ in }) -> JailOutcome {
        var c = config(["/bin/sh", "-c", script], seccomp: seccomp)
        adjust(&c)
        return jail.run(c)
    }

    static func python(_ code: String, _ adjust: (inout JailConfig) -> Void = { _ in }) -> JailOutcome {
        var c = config(["/usr/bin/python3", "-c", code])
        adjust(&c)
        return jail.run(c)
    }

    /// A fresh host directory for a test, removed by the caller.
    static func temporaryDirectory(mode: Int = 0o755) throws -> String {
        let path = NSTemporaryDirectory() + "warden-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: mode])
        return path
    }

    /// Runs a host command and returns its exit status and stdout.
    @discardableResult
    static func host(_ argv: [String], environment: [String: String]? = nil) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    static var isRoot: Bool { geteuid() == 0 }

    /// Host processes whose whole command line is exactly `args` (ps at full width).
    static func hostProcesses(withArgs args: String) throws -> [String] {
        let (_, out, _) = try host(["/bin/ps", "-ww", "-eo", "args"])
        return out.split(separator: "\n").map(String.init).filter { $0 == args }
    }
}

extension JailOutcome {
    var out: String { String(decoding: stdout, as: UTF8.self) }
    var err: String { String(decoding: stderr, as: UTF8.self) }
}
