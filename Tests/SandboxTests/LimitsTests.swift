import Foundation
import Sandbox
import Testing

/// Limits end a run with the right status and figures, never silently.
@Suite struct LimitsTests {
    @Test func memoryLimitEndsWithMemoryExceeded() {
        guard Fixtures.jail.cgroups != nil else { return }
        let o = Fixtures.python("b = bytearray(512 * 1024 * 1024); print('allocated')") {
            $0.limits.memoryBytes = 64 << 20
        }
        #expect(o.result.status == .memoryExceeded, "\(o.result)")
        #expect(!o.out.contains("allocated"))
        #expect((o.result.memoryPeakBytes ?? 0) <= 64 << 20)
        #expect((o.result.memoryPeakBytes ?? 0) > 32 << 20)
    }

    @Test func wallLimitStopsASleeper() {
        let o = Fixtures.sh("sleep 30") { $0.limits.wallTimeMs = 300 }
        #expect(o.result.status == .timeoutWall)
        #expect(o.result.wallMs >= 300 && o.result.wallMs < 2_000, "\(o.result.wallMs)")
        #expect(o.result.mirroredExitCode == 124)
    }

    @Test func cpuLimitStopsABusyLoopWithMillisecondPrecision() {
        guard Fixtures.jail.cgroups != nil else { return }
        let o = Fixtures.python("while True: pass") {
            $0.limits.cpuTimeMs = 250
            $0.limits.wallTimeMs = 20_000
        }
        #expect(o.result.status == .timeoutCPU, "\(o.result)")
        // Killed close to the limit, not at a one-second tick; the margin
        // covers scheduling delay when the test machine is loaded.
        #expect(o.result.cpuMs >= 250 && o.result.cpuMs < 400, "cpu \(o.result.cpuMs) ms")
    }

    @Test func hugeOutputIsTruncatedAndTheRunStillReported() {
        var c = Fixtures.config(["/bin/sh", "-c", "head -c 1073741824 /dev/zero; echo finished >&2"])
        c.limits.outputBytes = 1 << 20
        c.limits.wallTimeMs = 60_000
        let o = Fixtures.jail.run(c)
        #expect(o.result.status == .ok, "\(o.result)")
        #expect(o.result.stdoutTruncated)
        #expect(o.stdout.count == 1 << 20)
        #expect(o.result.stdoutBytes == 1 << 30)
        #expect(o.err == "finished\n")
    }

    @Test func outputLimitCanEndTheRun() {
        var c = Fixtures.config(["/bin/sh", "-c", "yes"])
        c.limits.outputBytes = 64 << 10
        c.limits.killOnOutputLimit = true
        let o = Fixtures.jail.run(c)
        #expect(o.result.status == .outputLimit, "\(o.result)")
        #expect(o.stdout.count == 64 << 10)
    }

    @Test func fileSizeLimitApplies() {
        let o = Fixtures.sh("head -c 2000000 /dev/zero > /tmp/big; echo rc=$?") { $0.limits.fileSizeBytes = 1_000_000 }
        #expect(o.out.contains("rc=") && !o.out.contains("rc=0"), "\(o.out) \(o.result)")
    }

    @Test func cgroupV2PathRunsAndAccountsCPU() throws {
        // This host's v2 mount has no controllers, but the v2 code path
        // (CLONE_INTO_CGROUP, cpu.stat) still runs for real.
        guard Fixtures.isRoot, FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified/cgroup.procs") else { return }
        let jail = try Jail(cgroupRoot: "/sys/fs/cgroup/unified", cgroupParent: "warden-test-v2")
        #expect(jail.cgroups?.host.version == .v2)
        var c = Fixtures.config(["/usr/bin/python3", "-c", "sum(range(3000000))"])
        c.limits.memoryBytes = nil
        c.limits.pids = nil
        let o = jail.run(c)
        #expect(o.result.status == .ok, "\(o.result)")
        #expect(o.result.cpuMs > 10)
    }
}
