import Synchronization

/// The counters of a named cgroup (`JailConfig.cgroupName`), read while its
/// jail runs: for a long-lived jail, such as a tenant's browser, whose calls
/// are measured as differences between two readings.
public final class CgroupMeter: Sendable {
    public struct Reading: Sendable, Equatable {
        /// CPU time of every process in the cgroup so far.
        public var cpuNanoseconds: UInt64
        /// Processes the kernel's OOM killer has killed in it so far.
        public var oomKills: UInt64
        /// The memory peak since the jail started.
        public var peakBytes: Int?
    }

    /// A slot's control-file descriptors are cached unguarded: one reader at a time.
    private let slot: Mutex<CgroupSlot>

    init(slot: CgroupSlot) {
        self.slot = Mutex(slot)
    }

    deinit {
        slot.withLock { $0.close() }
    }

    public func read() -> Reading {
        let usage = slot.withLock { $0.readUsage() }
        return Reading(cpuNanoseconds: usage.totalNs, oomKills: usage.oomKills, peakBytes: usage.peakBytes)
    }
}

extension Jail {
    /// A meter of the named cgroup that jails with `cgroupName == name` run in;
    /// nil without cgroups.
    public func meter(cgroup name: String) throws(SandboxError) -> CgroupMeter? {
        guard let pool = cgroups else { return nil }
        let slot = try Self.namedSlot(name, host: pool.host)
        return CgroupMeter(slot: slot)
    }
}
