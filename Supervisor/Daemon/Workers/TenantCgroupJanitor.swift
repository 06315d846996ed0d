import Foundation
import Logging
import Sandbox
#if canImport(Glibc)
import Glibc
#endif

extension TenantCgroup {
    /// Sweeps what an earlier daemon of this state directory left, then starts
    /// the janitor that removes this daemon's tenant cgroups when it ends,
    /// however it ends (see `CgroupJanitor`). The janitor holds a lock in the
    /// state directory for as long as it lives, so that the next daemon waits
    /// for a janitor still at work instead of racing it over the same names.
    static func startJanitor(host: CgroupHost, scope: String, lockPath: String, logger: Logger) -> CgroupJanitor? {
        let lock = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        defer { if lock >= 0 { close(lock) } }
        if lock < 0 {
            logger.warning("cannot open the cgroup janitor's lock", metadata: ["path": "\(lockPath)", "errno": "\(errno)"])
        } else {
            // A janitor gives up after a few seconds; wait a little longer than that.
            var waitedMs = 0
            while flock(lock, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK && waitedMs < 10_000 {
                usleep(20_000)
                waitedMs += 20
            }
        }
        sweep(host: host, scope: scope)
        let bases = host.version == .v2 ? [host.root] : Array(Set(host.controllerDirectories.values)).sorted()
        do {
            return try CgroupJanitor(parents: bases.map { "\($0)/\(parent)" }, prefix: scope + "-",
                                     holding: lock >= 0 ? [lock] : [])
        } catch {
            logger.warning("no cgroup janitor: tenant cgroups of a killed daemon stay until the next start sweeps them",
                           metadata: ["error": "\(error)"])
            return nil
        }
    }
}
