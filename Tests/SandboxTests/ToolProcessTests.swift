import Foundation
import Sandbox
import Testing

@Suite("Tool processes")
struct ToolProcessTests {
    /// A supervisor with many workers holds thousands of descriptors; a helper
    /// program must start anyway and see none of them.
    @Test func aToolStartsFromAProcessWithThousandsOfDescriptorsAndInheritsNone() throws {
        var held: [Int32] = []
        defer { held.forEach { close($0) } }
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        let wanted = min(3000, Int(limit.rlim_cur) - 64)
        for _ in 0..<wanted {
            let fd = open("/dev/null", O_RDONLY)   // no O_CLOEXEC: the spawn itself must keep them out
            guard fd >= 0 else { break }
            held.append(fd)
        }
        #expect(held.count > 1100, "the test needs more descriptors than Foundation's Process can list")
        let outcome = try ToolProcess.run("/bin/ls", ["/proc/self/fd"], environment: ["PATH=/usr/bin:/bin"])
        #expect(outcome.status == 0)
        let descriptors = String(decoding: outcome.output, as: UTF8.self).split(separator: "\n")
        // 0, 1, 2 and the one ls opens to list the directory.
        #expect(descriptors.count <= 4, "the tool saw \(descriptors)")

        let failing = try ToolProcess.run("/bin/sh", ["-c", "echo oops >&2; exit 3"], environment: [])
        #expect(failing.status == 3 && String(decoding: failing.errors, as: UTF8.self) == "oops\n")
    }
}
