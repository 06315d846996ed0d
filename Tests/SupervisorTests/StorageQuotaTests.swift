import Foundation
import Store
import Supervisor
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// storage.bytes as a hard limit (root): each tenant's workspace is an ext4
/// image of its limit, mounted only inside its jail. Attacks from exec and
/// the files API, over real HTTP, against real images and loop devices.
@Suite("Storage: the workspace is a filesystem of the tenant's limit")
struct StorageQuotaTests {
    static let mib = 1 << 20

    /// A tenant on its plan with storage.bytes set to `mib` MiB.
    static func tenant(_ daemon: RunningDaemon, _ name: String, mib: Int) async throws -> (Tenant, String) {
        let (tenant, token) = try await daemon.tenantWithKey(name)
        _ = try await daemon.admin.setTenantLimit(tenant.id, metric: "storage.bytes", limit: Limit(Double(mib * Self.mib)))
        return (tenant, token)
    }

    static func storageUsed(_ daemon: RunningDaemon, _ tenantID: String) async throws -> Double {
        try await daemon.admin.quota(tenantID).metrics.first { $0.metric == "storage.bytes" }?.used ?? 0
    }

    static func hostFreeBytes(_ path: String) -> Int {
        var st = statvfs()
        return statvfs(path, &st) == 0 ? Int(st.f_bavail) * Int(st.f_frsize) : 0
    }

    @Test(.enabled(if: geteuid() == 0, "images need root"))
    func aDiskFillFromExecStopsAtTheLimitAndOnlyThatTenantIsFull() async throws {
        try await withLiveDaemon { daemon in
            let (filler, fillerKey) = try await Self.tenant(daemon, "filler", mib: 20)
            let (_, neighbourKey) = try await Self.tenant(daemon, "neighbour", mib: 20)
            let hostFreeBefore = Self.hostFreeBytes(daemon.stateDirectory)

            // 100 MiB into a 20 MiB workspace: dd stops at the limit, and the result says why.
            let dd = try await daemon.exec(fillerKey, ["language": "bash", "timeout_ms": 60_000,
                                                       "code": "dd if=/dev/zero of=/workspace/f bs=1M count=100"])
            let result = try #require(dd.json, "\(String(decoding: dd.body, as: UTF8.self))")
            #expect(result["status"] as? String == "exited_nonzero", "\(result)")
            #expect((result["stderr"] as? String)?.contains("No space left on device") == true, "\(result)")
            #expect(result["storage_full"] as? Bool == true, "\(result)")

            // What dd wrote is the limit at most, and nearly all of it (ext4's own records are on top).
            let size = try await daemon.run(fillerKey, "bash", "stat -c %s /workspace/f")
            let written = Int((size["stdout"] as? String ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            #expect(written <= 20 * Self.mib && written >= 18 * Self.mib, "dd wrote \(written) bytes")

            // Python writing in a loop gets ENOSPC (errno 28) too, from another process, in another jail.
            let python = try await daemon.run(fillerKey, "python", """
                import errno
                try:
                    with open('/workspace/g', 'wb') as f:
                        while True:
                            f.write(b'x' * 65536)
                            f.flush()
                except OSError as e:
                    print('errno', e.errno == errno.ENOSPC)
                """)
            #expect(python["stdout"] as? String == "errno True\n", "\(python)")

            // The files API answers 507 no_space.
            let put = try await daemon.files("PUT", "/v1/files/more.bin", token: fillerKey, body: Data(count: Self.mib))
            #expect(put.status == 507, "\(put.status) \(String(decoding: put.body, as: UTF8.self))")
            #expect(put.errorCode == "no_space")

            // The gauge shows it: quota show and the tenant's own usage.
            let used = try await Self.storageUsed(daemon, filler.id)
            #expect(used >= Double(18 * Self.mib) && used <= Double(21 * Self.mib), "storage.bytes used \(used)")
            let usage = try await daemon.http("GET", "/v1/usage", headers: bearer(fillerKey))
            #expect(String(decoding: usage.body, as: UTF8.self).contains("storage.bytes"))

            // The host lost no more than the image (sparse, the limit plus ext4's records).
            let image = StateLayout(root: daemon.stateDirectory).workspaceImage(filler.id)
            var st = stat()
            #expect(stat(image, &st) == 0)
            #expect(Int(st.st_blocks) * 512 <= 26 * Self.mib, "the image takes \(Int(st.st_blocks) * 512) bytes on the host")
            #expect(hostFreeBefore - Self.hostFreeBytes(daemon.stateDirectory) < 60 * Self.mib)
            // Nothing is mounted in the host's namespace: the image lives in the jail's only.
            let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
            #expect(!mounts.contains(daemon.stateDirectory))

            // The neighbour, on its own image, writes as usual.
            let neighbourPut = try await daemon.files("PUT", "/v1/files/data.bin", token: neighbourKey,
                                                      body: Data(count: 5 * Self.mib))
            #expect(neighbourPut.status == 201, "\(String(decoding: neighbourPut.body, as: UTF8.self))")
            let neighbourDD = try await daemon.run(neighbourKey, "bash", "dd if=/dev/zero of=/workspace/x bs=1M count=5 status=none && echo ok")
            #expect(neighbourDD["stdout"] as? String == "ok\n", "\(neighbourDD)")
            #expect(neighbourDD["storage_full"] == nil)

            // Deleting frees the space again.
            #expect(try await daemon.files("DELETE", "/v1/files/f", token: fillerKey).status == 200)
            #expect(try await daemon.files("DELETE", "/v1/files/g", token: fillerKey).status == 200)
            let again = try await daemon.files("PUT", "/v1/files/more.bin", token: fillerKey, body: Data(count: Self.mib))
            #expect(again.status == 201, "\(String(decoding: again.body, as: UTF8.self))")
            let after = try await Self.storageUsed(daemon, filler.id)
            #expect(after < Double(3 * Self.mib), "storage.bytes used \(after) after the deletes")
        }
    }

    @Test(.enabled(if: geteuid() == 0, "images need root"))
    func aChangedLimitResizesTheImageAndALowerOneKeepsTheFiles() async throws {
        try await withLiveDaemon { daemon in
            let (tenant, token) = try await Self.tenant(daemon, "grower", mib: 10)
            let fill = "dd if=/dev/zero of=/workspace/$N bs=1M count=30 2>/dev/null; stat -c %s /workspace/$N"
            let first = try await daemon.run(token, "bash", fill.replacingOccurrences(of: "$N", with: "a"))
            let a = Int((first["stdout"] as? String ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            #expect(a <= 10 * Self.mib && a > 8 * Self.mib, "\(first)")

            // A higher limit takes effect when the worker starts again: 20 MiB more fit.
            _ = try await daemon.admin.setTenantLimit(tenant.id, metric: "storage.bytes", limit: Limit(Double(30 * Self.mib)))
            _ = try await daemon.admin.restartWorker(tenant.id)
            let second = try await daemon.run(token, "bash", fill.replacingOccurrences(of: "$N", with: "b"))
            let b = Int((second["stdout"] as? String ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            #expect(b > 18 * Self.mib && a + b <= 30 * Self.mib, "a \(a), b \(b)")

            // A limit below what the files take keeps them all, and the workspace is full.
            _ = try await daemon.admin.setTenantLimit(tenant.id, metric: "storage.bytes", limit: Limit(Double(5 * Self.mib)))
            _ = try await daemon.admin.restartWorker(tenant.id)
            let kept = try await daemon.run(token, "bash", "echo $(( $(stat -c %s /workspace/a) + $(stat -c %s /workspace/b) ))")
            #expect(Int((kept["stdout"] as? String ?? "").trimmingCharacters(in: .whitespacesAndNewlines)) == a + b, "\(kept)")
            let put = try await daemon.files("PUT", "/v1/files/c.bin", token: token, body: Data(count: Self.mib))
            #expect(put.status == 507, "\(put.status) \(String(decoding: put.body, as: UTF8.self))")
            let used = try await Self.storageUsed(daemon, tenant.id)
            #expect(used > Double(5 * Self.mib), "used \(used) should show the tenant over its limit")
        }
    }

    /// A workspace directory of before (files made without an image) moves into the image once.
    @Test(.enabled(if: geteuid() == 0, "images need root"))
    func anExistingWorkspaceMovesIntoItsImage() async throws {
        try await withLiveDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("veteran")
            let layout = StateLayout(root: daemon.stateDirectory)
            let owner = uid_t(tenant.hostIDBase + TenantService.payloadIDOffset)
            try FileManager.default.createDirectory(atPath: layout.workspace(tenant.id) + "/notes", withIntermediateDirectories: true)
            let file = layout.workspace(tenant.id) + "/notes/old.txt"
            try Data("from before\n".utf8).write(to: URL(fileURLWithPath: file))
            for path in [file, layout.workspace(tenant.id) + "/notes"] { #expect(chown(path, owner, owner) == 0) }

            let read = try await daemon.run(token, "bash", "cat /workspace/notes/old.txt; ls -A /workspace; echo more >> /workspace/notes/old.txt && echo appended")
            #expect(read["stdout"] as? String == "from before\nnotes\nappended\n", "\(read)")
            #expect(FileManager.default.fileExists(atPath: layout.workspaceImage(tenant.id)))
            #expect(!FileManager.default.fileExists(atPath: layout.workspace(tenant.id)))
        }
    }
}

extension Live {
    /// Loop devices whose backing file lies under `directory`.
    static func loopDevices(backing directory: String) -> [String] {
        let devices = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/block")) ?? []
        return devices.filter { $0.hasPrefix("loop") }.compactMap { device in
            let file = (try? String(contentsOfFile: "/sys/block/\(device)/loop/backing_file", encoding: .utf8)) ?? ""
            return file.hasPrefix(directory) ? "\(device): \(file.trimmingCharacters(in: .newlines))" : nil
        }
    }
}
