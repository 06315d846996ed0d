#if canImport(Glibc)
import Glibc
#endif
import Sandbox

/// The ids of tool jails, chosen from what the tenant jail maps. As root the
/// supervisor maps a range of 65,536 ids, and tool jails map the same ids 1:1
/// (tenant code runs as 1000, apart from the worker's 0). A rootless tenant
/// jail maps only the worker's own id; tool jails then map the payload's id to it.
enum ToolIdentity {
    static func choose(payloadID: UInt32, wanted: UInt32) -> Identity {
        mappedFromZero() >= wanted ? .nested(count: wanted) : .callerOnly
    }

    /// How many ids from 0 up this user namespace maps (the first line of uid_map).
    static func mappedFromZero() -> UInt32 {
        let fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        guard case .success(let bytes) = FileIO.readAll(fd, limit: 4096) else { return 0 }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 3, fields[0] == "0", let count = UInt32(fields[2]) { return count }
        }
        return 0
    }
}
