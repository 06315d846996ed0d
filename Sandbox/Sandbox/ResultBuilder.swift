import CSandbox
#if canImport(Glibc)
import Glibc
#endif

/// Decides a run's status from what init reported, what the cgroup counted
/// and why (if at all) the supervisor killed the jail.
struct ResultBuilder {
    let report: wd_report?
    let usage: CgroupSlot.Usage?
    let watch: Supervision
    let wallMs: Double
    let cgroupCPU: Bool

    func build() -> JailResult {
        var r = JailResult(status: .ok, exitCode: nil, signal: nil, signalName: nil, syscall: nil, message: nil,
                           cpuUserMs: 0, cpuSystemMs: 0, wallMs: wallMs, memoryPeakBytes: nil,
                           stdoutBytes: watch.stdoutBytes, stderrBytes: watch.stderrBytes,
                           stdoutTruncated: watch.stdoutTruncated, stderrTruncated: watch.stderrTruncated)
        if let usage, cgroupCPU {
            // v1's user/system split comes in scheduler ticks (10 ms) and lags
            // the precise total the CPU limit is enforced on: the total is
            // reported, split in the ticks' proportion.
            let split = usage.userNs + usage.systemNs
            let scale = usage.totalNs > 0 && split > 0 ? Double(usage.totalNs) / Double(split) : 1
            r.cpuUserMs = split > 0 ? Double(usage.userNs) * scale / 1_000_000 : Double(usage.totalNs) / 1_000_000
            r.cpuSystemMs = Double(usage.systemNs) * scale / 1_000_000
        } else if let report {
            r.cpuUserMs = Double(report.user_us) / 1000
            r.cpuSystemMs = Double(report.system_us) / 1000
        }
        r.memoryPeakBytes = usage?.peakBytes ?? report.map { Int($0.max_rss_kb) * 1024 }

        if let report {
            let status = report.wait_status
            if status & 0x7f == 0 {
                r.exitCode = (status >> 8) & 0xff
            } else {
                r.signal = status & 0x7f
            }
        } else {
            r.signal = SIGKILL // init itself was killed: by us, or with the supervisor
        }
        r.signalName = r.signal.map(Self.signalName)

        if let report, report.seccomp_syscall >= 0 {
            r.status = .seccompViolation
            r.syscall = SeccompCompiler.syscallName(report.seccomp_syscall)
            r.message = "killed by the seccomp profile at syscall \(r.syscall ?? "?")"
            r.signal = SIGSYS
            r.signalName = "SIGSYS"
            r.exitCode = nil
            return r
        }
        switch watch.killedFor {
        case .wall?:
            r.status = .timeoutWall
            r.message = "wall time limit of \(watch.limits.wallTimeMs ?? 0) ms reached"
            return r
        case .cpu?:
            r.status = .timeoutCPU
            r.message = "CPU time limit of \(watch.limits.cpuTimeMs ?? 0) ms reached"
            return r
        case .output?:
            r.status = .outputLimit
            r.message = "output passed the limit of \(watch.limits.outputBytes) bytes"
            return r
        case nil:
            break
        }
        if let usage, usage.oomKills > 0 {
            r.status = .memoryExceeded
            r.message = "memory limit of \(watch.limits.memoryBytes.map(String.init) ?? "?") bytes reached: the kernel killed \(usage.oomKills) process(es)"
            return r
        }
        if r.signal == SIGXCPU {
            r.status = .timeoutCPU
            r.message = "CPU time limit reached (RLIMIT_CPU)"
            return r
        }
        if let signal = r.signal {
            r.status = .signaled
            r.message = "killed by \(Self.signalName(signal))"
        } else {
            r.status = r.exitCode == 0 ? .ok : .exitedNonzero
        }
        return r
    }

    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
                                      7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
                                      13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 24: "SIGXCPU", 25: "SIGXFSZ", 31: "SIGSYS"]
        return names[signal] ?? "signal \(signal)"
    }
}
