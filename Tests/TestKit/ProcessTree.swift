#if canImport(Glibc)
import Glibc
#endif

/// Processes of this host as /proc shows them, for tests that check what a
/// jail leaves behind.
public enum ProcessTree {
    public static func all() -> [Int32] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var pids: [Int32] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if let pid = Int32(name) { pids.append(pid) }
        }
        return pids
    }

    /// The parent pid of a process, or nil when it is gone.
    public static func parent(of pid: Int32) -> Int32? {
        guard let stat = read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    /// Every descendant of `root` (children, grandchildren, ...).
    public static func descendants(of root: Int32) -> [Int32] {
        var parents: [Int32: Int32] = [:]
        for pid in all() { if let p = parent(of: pid) { parents[pid] = p } }
        var found: Set<Int32> = [root]
        var changed = true
        while changed {
            changed = false
            for (pid, p) in parents where found.contains(p) && !found.contains(pid) {
                found.insert(pid)
                changed = true
            }
        }
        found.remove(root)
        return Array(found)
    }

    /// Chromium's live processes under `root` (the worker that runs the browser).
    public static func browsers(under root: Int32) -> [Int32] {
        descendants(of: root).filter { isAlive($0) && commandLine($0).contains("chromium-headless-shell") }
    }

    /// The command line with its NUL separators as spaces ("" when gone).
    public static func commandLine(_ pid: Int32) -> String {
        guard let raw = readBytes("/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: raw.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }

    /// Alive and not a zombie.
    public static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0, let stat = read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].hasPrefix(" Z")
    }

    /// One process, not just its pid: pids are reused (32,768 of them on a
    /// default host, and a test run starts thousands of processes), so a
    /// process is known by its pid and the moment it started.
    public struct Identity: Hashable, Sendable {
        public let pid: Int32
        /// Field 22 of /proc/PID/stat: clock ticks after boot.
        public let startTicks: UInt64
    }

    /// The process now running as `pid`, nil when there is none.
    public static func identity(of pid: Int32) -> Identity? {
        guard let stat = read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // starttime is field 22 of stat, 20 after the name.
        guard fields.count > 19, let start = UInt64(fields[19]) else { return nil }
        return Identity(pid: pid, startTicks: start)
    }

    /// Whether that very process is still alive (not a zombie, its pid not taken by another).
    public static func isAlive(_ process: Identity) -> Bool {
        isAlive(process.pid) && identity(of: process.pid) == process
    }

    /// CPU time (user and system) the process used during the next `milliseconds`.
    public static func cpuMilliseconds(_ pid: Int32, over milliseconds: Int) -> Int {
        func ticks() -> Int {
            guard let stat = read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return 0 }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
            return fields.count > 13 ? (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0) : 0
        }
        let before = ticks()
        usleep(useconds_t(milliseconds * 1000))
        return (ticks() - before) * 1000 / sysconf(Int32(_SC_CLK_TCK))
    }

    /// Live processes whose command line contains `needle`.
    public static func matching(_ needle: String) -> [Int32] {
        all().filter { $0 != getpid() && commandLine($0).contains(needle) && isAlive($0) }
    }

    private static func read(_ path: String) -> String? {
        readBytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    private static func readBytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += chunk[0..<n]
        }
        return out
    }
}
