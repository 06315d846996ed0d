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
        // A unique sleep length marks the jail's processes (dash has no `exec -a`).
        let marker = "3001.\(Int.random(in: 100_000...999_999))"
        let o = Fixtures.sh("""
        (setsid sleep \(marker) &) ; (sh -c 'sleep \(marker) & sleep \(marker)' &) ; nohup sleep \(marker) >/dev/null 2>&1 &
        sleep 0.3; ps -eo args | grep -c '^sleep \(marker)'
        """)
        // Four escapees were really running inside before the jail ended.
        #expect(o.out == "4\n", "\(o.out) \(o.err)")
        #expect(try Fixtures.hostProcesses(withArgs: "sleep \(marker)").isEmpty, "a jailed process survived")
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
