import Foundation
import Testing
import WorkerProtocol

@Suite("workspace.usage")
struct WorkspaceUsageTests {
    @Test("a directory is walked each time, without following symlinks out")
    func directoryWalk() throws {
        let worker = try WorkerHarness.start()
        defer { worker.stop() }
        _ = try worker.run(1, .filesWrite, FilesWriteArgs(path: "a/big.bin", content: Data(count: 300 << 10).base64EncodedString(),
                                                          encoding: "base64"))
        // A link to the host's root must not count the host's files.
        #expect(symlink("/", worker.workspace + "/a/root") == 0)
        let first = try worker.result(WorkspaceUsage.self, worker.run(2, .workspaceUsage, WorkspaceUsageArgs()))
        #expect(first.usedBytes >= 300 << 10 && first.usedBytes < 400 << 10, "\(first)")
        #expect(first.capacityBytes == nil && first.complete)
        // The same answer the second time (the walk starts afresh).
        let second = try worker.result(WorkspaceUsage.self, worker.run(3, .workspaceUsage, WorkspaceUsageArgs()))
        #expect(second == first)
        _ = try worker.run(4, .filesDelete, FilesDeleteArgs(path: "a/big.bin"))
        let after = try worker.result(WorkspaceUsage.self, worker.run(5, .workspaceUsage, WorkspaceUsageArgs()))
        #expect(after.usedBytes < 100 << 10, "\(after)")
    }

    @Test("a measurement never takes a tenant's call slot, nor one of its own")
    func measurementBesideAFullWorker() throws {
        let worker = try WorkerHarness.start(maxCalls: 1)
        defer { worker.stop() }
        try worker.call(1, .exec, ExecArgs(language: "bash", code: "sleep 2; echo slow"))
        usleep(300_000)
        #expect(worker.framesSoFar(callID: 1).isEmpty, "the slow call ended early")
        // The one slot is taken: the measurement runs all the same...
        let usage = try worker.result(WorkspaceUsage.self, worker.run(2, .workspaceUsage, WorkspaceUsageArgs()))
        #expect(usage.complete)
        // ...and a second call of the tenant is still refused.
        let refused = try worker.error(worker.run(3, .exec, ExecArgs(language: "bash", code: "echo second")))
        #expect(refused.code == .busy, "\(refused)")
        let slow = try worker.result(ExecResult.self, worker.waitEnd(callID: 1))
        #expect(slow.stdout == "slow\n")
        // Once the slow call has ended, the measurement did not keep its place.
        let next = try worker.exec(4, ExecArgs(language: "bash", code: "echo next"))
        #expect(next.stdout == "next\n")
    }

    @Test("a workspace of its own is measured by its statfs")
    func filesystem() throws {
        let worker = try WorkerHarness.start(workspaceBytes: 1 << 20, storage: .filesystem)
        defer { worker.stop() }
        let empty = try worker.result(WorkspaceUsage.self, worker.run(1, .workspaceUsage, WorkspaceUsageArgs()))
        #expect(empty.capacityBytes == 1 << 20, "\(empty)")
        _ = try worker.run(2, .filesWrite, FilesWriteArgs(path: "f", content: Data(count: 512 << 10).base64EncodedString(),
                                                          encoding: "base64"))
        let used = try worker.result(WorkspaceUsage.self, worker.run(3, .workspaceUsage, WorkspaceUsageArgs()))
        #expect(used.usedBytes >= empty.usedBytes + (512 << 10), "\(used)")
        #expect((used.availableBytes ?? .max) <= (empty.availableBytes ?? 0) - (512 << 10), "\(used)")
    }
}
