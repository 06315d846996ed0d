import Foundation
import Sandbox
import Testing

/// Jails armed ahead of their call: each call gets a jail of its own with
/// only its own files, arguments, environment, input and limits, and calls
/// that an armed jail cannot take still run.
@Suite struct ArmedJailTests {
    /// A configuration an armed jail can take: the caller's network, no descriptors of its own.
    static func script(_ text: String, arguments: [String] = []) -> JailConfig {
        var c = Fixtures.config(["/bin/sh", "/code/main.sh"] + arguments)
        c.network = .inherit
        c.files = [JailFile(path: "/code/main.sh", contents: Array(text.utf8))]
        return c
    }

    static func waitUntilReady(_ arming: JailArming) async {
        for _ in 0..<500 where !arming.isReady { try? await Task.sleep(for: .milliseconds(20)) }
    }

    @Test func eachCallSeesOnlyItsOwnFilesArgumentsEnvironmentAndInput() async {
        let arming = JailArming(jail: Fixtures.jail)
        defer { arming.stop() }
        for round in 0..<5 {
            // The first run arms nothing (a worker may run one call only); the second arms the third's jail.
            if round > 1 { await Self.waitUntilReady(arming) }
            var c = Self.script("""
                echo "file\(round) $1 $ROUND"
                cat
                ls /tmp /code
                echo secret > /tmp/left\(round)
                sleep 100 &
                """, arguments: ["arg\(round)"])
            c.environment["ROUND"] = "round\(round)"
            let outcome = Fixtures.jail.run(c, stdin: .bytes(Array("input\(round)\n".utf8)), arming: arming)
            #expect(outcome.result.status == .ok, "\(outcome.result) \(String(decoding: outcome.stderr, as: UTF8.self))")
            // Nothing of an earlier call (its file in /tmp, its process) is left.
            #expect(String(decoding: outcome.stdout, as: UTF8.self) == "file\(round) arg\(round) round\(round)\ninput\(round)\n/code:\nmain.sh\n\n/tmp:\n",
                    "round \(round)")
            #expect(outcome.result.wallMs < 20_000)
        }
        #expect(arming.firedCount == 3)
    }

    /// Two runs, so that the next one finds a jail armed.
    static func warm(_ arming: JailArming) async {
        for _ in 0..<2 { _ = Fixtures.jail.run(script("true"), arming: arming) }
        await waitUntilReady(arming)
    }

    @Test func theCallsOwnLimitsHoldInAnArmedJail() async {
        guard Fixtures.jail.cgroups != nil else { return }
        let arming = JailArming(jail: Fixtures.jail)
        defer { arming.stop() }
        await Self.warm(arming)
        var hungry = Self.script("exec python3 -c 'b = bytearray(512 * 1024 * 1024); print(\"allocated\")'")
        hungry.limits.memoryBytes = 64 << 20
        let outcome = Fixtures.jail.run(hungry, arming: arming)
        #expect(arming.firedCount == 1)
        #expect(outcome.result.status == .memoryExceeded, "\(outcome.result)")
        #expect((outcome.result.memoryPeakBytes ?? 0) <= 64 << 20)

        await Self.waitUntilReady(arming)
        var slow = Self.script("sleep 30")
        slow.limits.wallTimeMs = 300
        let timed = Fixtures.jail.run(slow, arming: arming)
        #expect(arming.firedCount == 2)
        #expect(timed.result.status == .timeoutWall)
    }

    @Test func aCallTheArmedJailCannotTakeStillRunsAndReportsItsOwnErrors() async {
        let arming = JailArming(jail: Fixtures.jail)
        defer { arming.stop() }
        await Self.warm(arming)
        // A file where the root has a mount: refused, with the same message as without arming.
        var misplaced = Self.script("true")
        misplaced.files.append(JailFile(path: "/tmp/x", contents: [1]))
        let refused = Fixtures.jail.run(misplaced, arming: arming)
        #expect(refused.result.status == .setupError)
        #expect(refused.result.message?.contains("/tmp/x") == true, "\(refused.result.message ?? "")")
        // A program that does not exist: the same setup error as without arming.
        _ = Fixtures.jail.run(Self.script("true"), arming: arming)
        await Self.waitUntilReady(arming)
        var missing = Self.script("true")
        missing.command = "/usr/bin/no-such-program"
        let absent = Fixtures.jail.run(missing, arming: arming)
        #expect(absent.result.status == .setupError, "\(absent.result)")
        // A network of its own does not fit an armed jail; it runs all the same.
        var isolated = Self.script("echo isolated")
        isolated.network = .isolated
        let own = Fixtures.jail.run(isolated, arming: arming)
        #expect(String(decoding: own.stdout, as: UTF8.self) == "isolated\n")
        // Failed starts arm nothing; the next call that starts arms again,
        // and the one after it takes that jail.
        let before = arming.firedCount
        for round in 0..<2 {
            if round > 0 { await Self.waitUntilReady(arming) }
            let ordinary = Fixtures.jail.run(Self.script("echo ok"), arming: arming)
            #expect(String(decoding: ordinary.stdout, as: UTF8.self) == "ok\n")
        }
        #expect(arming.firedCount == before + 1)
    }
}
