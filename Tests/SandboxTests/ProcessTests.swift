import Foundation
import Sandbox
import Testing

/// Processes: the jail sees only its own, cannot signal the host's, and
/// nothing it starts outlives it.
@Suite struct ProcessTests {
    @Test func hostProcessesAreInvisible() {
        let me = getpid()
        let o = Fixtures.sh("ls /proc | grep -E '^[0-9]+$' | wc -l; kill -0 \(me) && echo reached; kill -0 1 && echo init-reachable; echo end")
        let lines = o.out.split(separator: "\n").map(String.init)
        let count = Int(lines.first?.trimmingCharacters(in: .whitespaces) ?? "") ?? 999
        #expect(count <= 5, "saw \(count) processes")
        #expect(!lines.contains("reached"))
        // Rootless, init and payload share the one mapped uid; as root they do not.
        if Fixtures.isRoot { #expect(!lines.contains("init-reachable"), "the payload could signal the jail's init") }
    }

    @Test func nothingSurvivesTheJail() throws {
        let marker = "warden-survivor-\(UUID().uuidString.prefix(8))"
        let o = Fixtures.sh("""
        (setsid sh -c 'exec -a \(marker) sleep 300' &) ; (sh -c 'sleep 300 & exec -a \(marker) sleep 300' &) ; nohup sh -c 'exec -a \(marker) sleep 300' >/dev/null 2>&1 & echo started
        """)
        #expect(o.out == "started\n", "\(o.out) \(o.err)")
        let (_, ps, _) = try Fixtures.host(["/bin/ps", "-eo", "args"])
        #expect(!ps.contains(marker), "a jailed process survived")
    }

    @Test func forkBombIsContained() {
        let o = Fixtures.sh("bomb() { bomb | bomb & }; bomb; sleep 2; echo survived") {
            $0.limits.pids = 64
            $0.limits.wallTimeMs = 10_000
        }
        // Contained: the jail ends by itself or by the wall limit, and the host keeps running.
        #expect(o.result.status != .setupError)
        #expect(o.result.wallMs < 15_000)
    }
}
