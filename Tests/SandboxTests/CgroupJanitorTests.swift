import Foundation
import Sandbox
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The cgroup janitor removes the directories it was given, deepest first,
/// and nothing else. (That it also acts when its caller is killed with -9 is
/// tested end to end with `warden serve` in the supervisor's tests.)
@Suite struct CgroupJanitorTests {
    @Test(.enabled(if: geteuid() == 0 && Fixtures.jail.cgroups != nil, "needs writable cgroups"))
    func finishRemovesTheMatchingCgroupTreesAndNothingElse() throws {
        let host = try #require(Fixtures.jail.cgroups?.host)
        let hierarchy = try #require(host.version == .v2 ? host.root : host.controllerDirectories["pids"] ?? host.controllerDirectories.values.first)
        let parent = "\(hierarchy)/warden-test/janitor-\(getpid())"
        let fm = FileManager.default
        try fm.createDirectory(atPath: parent + "/mine-a/calls/pool-1", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: parent + "/mine-b", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: parent + "/other", withIntermediateDirectories: true)
        defer {
            for dir in ["/other", "/mine-b", "/mine-a/calls/pool-1", "/mine-a/calls", "/mine-a", ""] { rmdir(parent + dir) }
        }

        let janitor = try CgroupJanitor(parents: [parent], prefix: "mine-", title: "janitor under test")
        // It does not carry its caller's command line around (it renames itself as it starts).
        var cmdline = ""
        for _ in 0..<100 {
            cmdline = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(janitor.pid)/cmdline"))) ?? Data(), as: UTF8.self)
            if cmdline.hasPrefix("janitor under test") { break }
            usleep(20_000)
        }
        #expect(cmdline.hasPrefix("janitor under test"), "\(cmdline)")
        // It waits for its caller before touching anything.
        #expect(fm.fileExists(atPath: parent + "/mine-a/calls/pool-1"))

        #expect(janitor.finish())
        #expect(!fm.fileExists(atPath: parent + "/mine-a"))
        #expect(!fm.fileExists(atPath: parent + "/mine-b"))
        #expect(fm.fileExists(atPath: parent + "/other"))
        #expect(kill(janitor.pid, 0) != 0, "the janitor still runs after finishing")
    }

    @Test(.enabled(if: geteuid() == 0 && Fixtures.jail.cgroups != nil, "needs writable cgroups"))
    func aCgroupStillBusyIsRemovedByTheNextWakeNotForgotten() throws {
        let host = try #require(Fixtures.jail.cgroups?.host)
        let hierarchy = try #require(host.version == .v2 ? host.root : host.controllerDirectories["pids"] ?? host.controllerDirectories.values.first)
        let parent = "\(hierarchy)/warden-test/janitor-busy-\(getpid())"
        let busy = parent + "/mine-busy"
        let fm = FileManager.default
        try fm.createDirectory(atPath: busy, withIntermediateDirectories: true)
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["60"]
        try sleeper.run()
        defer {
            if sleeper.isRunning { kill(sleeper.processIdentifier, SIGKILL); sleeper.waitUntilExit() }
            rmdir(busy)
            rmdir(parent)
        }
        try "\(sleeper.processIdentifier)".write(toFile: busy + "/cgroup.procs", atomically: false, encoding: .utf8)

        let janitor = try CgroupJanitor(parents: [parent], prefix: "mine-", timeoutMs: 200)
        // A task still inside: the directory stays, and so does the janitor.
        #expect(!janitor.finish())
        #expect(fm.fileExists(atPath: busy))
        #expect(kill(janitor.pid, 0) == 0, "the janitor gave up on a busy cgroup")
        // Once the task has left, the next wake removes it and the janitor ends.
        kill(sleeper.processIdentifier, SIGKILL)
        sleeper.waitUntilExit()
        #expect(janitor.finish())
        #expect(!fm.fileExists(atPath: busy))
    }
}
