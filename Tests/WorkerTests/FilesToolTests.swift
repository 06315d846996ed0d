import Foundation
import Testing
import WorkerProtocol

@Suite("files in the workspace")
struct FilesToolTests {
    @Test("write, list, read and delete round trip")
    func roundTrip() throws {
        let worker = try WorkerHarness.start()
        defer { worker.stop() }
        let w = try worker.result(FilesWriteResult.self, worker.run(1, .filesWrite, FilesWriteArgs(path: "docs/a/b.txt", content: "hello")))
        #expect(w == FilesWriteResult(path: "docs/a/b.txt", size: 5))
        _ = try worker.run(2, .filesWrite, FilesWriteArgs(path: "docs/c.bin", content: Data([1, 2, 3]).base64EncodedString(), encoding: "base64"))
        let appended = try worker.result(FilesWriteResult.self, worker.run(3, .filesWrite, FilesWriteArgs(path: "docs/a/b.txt", content: " world", append: true)))
        #expect(appended.size == 11)
        _ = try worker.run(4, .filesWrite, FilesWriteArgs(path: "other.txt", content: ""))

        let all = try worker.result(FilesListResult.self, worker.run(5, .filesList, FilesListArgs()))
        #expect(all.entries.map(\.path) == ["docs", "docs/a", "docs/a/b.txt", "docs/c.bin", "other.txt"])
        #expect(all.entries.map(\.type) == ["dir", "dir", "file", "file", "file"])
        #expect(all.entries[2].size == 11)
        #expect(all.entries[2].modifiedMs > 1_700_000_000_000)
        #expect(!all.truncated)
        let prefixed = try worker.result(FilesListResult.self, worker.run(6, .filesList, FilesListArgs(prefix: "docs/a")))
        #expect(prefixed.entries.map(\.path) == ["docs/a", "docs/a/b.txt"])
        let missing = try worker.result(FilesListResult.self, worker.run(7, .filesList, FilesListArgs(prefix: "nothing/here/")))
        #expect(missing.entries.isEmpty)

        let r = try worker.result(FilesReadResult.self, worker.run(8, .filesRead, FilesReadArgs(path: "docs/a/b.txt")))
        #expect(r.encoding == "base64")
        #expect(r.content.flatMap { Data(base64Encoded: $0) } == Data("hello world".utf8))
        #expect(try worker.error(worker.run(9, .filesRead, FilesReadArgs(path: "docs"))).code == .invalidRequest)
        #expect(try worker.error(worker.run(10, .filesRead, FilesReadArgs(path: "nope.txt"))).code == .notFound)

        // Files the API writes belong to the tool jails' user, so code can change them.
        let owner = try FileManager.default.attributesOfItem(atPath: worker.workspace + "/docs/a/b.txt")[.ownerAccountID] as? Int
        #expect(owner == Int(WorkerHarness.payloadHostID))

        let d = try worker.result(FilesDeleteResult.self, worker.run(11, .filesDelete, FilesDeleteArgs(path: "docs")))
        #expect(d == FilesDeleteResult(path: "docs", deleted: true))
        #expect(!FileManager.default.fileExists(atPath: worker.workspace + "/docs"))
        #expect(try worker.error(worker.run(12, .filesDelete, FilesDeleteArgs(path: "docs"))).code == .notFound)
    }

    @Test("paths never leave the workspace: .., absolute, NUL, symlinks out")
    func pathAttacks() throws {
        let worker = try WorkerHarness.start()
        defer { worker.stop() }
        let outside = NSTemporaryDirectory() + "warden-outside-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try "secret".write(toFile: outside + "/secret.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: worker.workspace + "/etc", withDestinationPath: "/etc")
        try FileManager.default.createSymbolicLink(atPath: worker.workspace + "/out", withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: worker.workspace + "/up", withDestinationPath: "../..")
        try FileManager.default.createSymbolicLink(atPath: worker.workspace + "/secret", withDestinationPath: outside + "/secret.txt")

        var id: UInt32 = 0
        func refused(_ tool: Tool, _ args: some Codable & Sendable) throws -> ErrorReply {
            id += 1
            return try worker.error(worker.run(id, tool, args))
        }
        for path in ["../x", "a/../../x", "/etc/passwd", "a\u{0}b", "etc/passwd", "out/secret.txt", "up/etc/passwd", "secret", ""] {
            #expect(try refused(.filesRead, FilesReadArgs(path: path)).code == .invalidRequest, "read \(path)")
        }
        for path in ["../x", "/tmp/x", "a\u{0}b", "etc/evil", "out/new.txt", "out/secret.txt", "secret", "up/x", "out/sub/x"] {
            #expect(try refused(.filesWrite, FilesWriteArgs(path: path, content: "pwned")).code == .invalidRequest, "write \(path)")
        }
        for path in ["../x", "/etc", "out/secret.txt", "etc/passwd"] {
            #expect(try refused(.filesDelete, FilesDeleteArgs(path: path)).code == .invalidRequest, "delete \(path)")
        }
        #expect(try refused(.filesList, FilesListArgs(prefix: "../")).code == .invalidRequest)
        #expect(try refused(.filesList, FilesListArgs(prefix: "etc/")).code == .invalidRequest)

        #expect(try String(contentsOfFile: outside + "/secret.txt", encoding: .utf8) == "secret")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside) == ["secret.txt"])
        #expect(FileManager.default.fileExists(atPath: "/etc/passwd"))

        // Symlinks are listed as such and deleting one removes the link, not its target.
        id += 1
        let listing = try worker.result(FilesListResult.self, worker.run(id, .filesList, FilesListArgs()))
        #expect(listing.entries.map(\.type) == ["symlink", "symlink", "symlink", "symlink"])
        id += 1
        _ = try worker.result(FilesDeleteResult.self, worker.run(id, .filesDelete, FilesDeleteArgs(path: "out")))
        #expect(FileManager.default.fileExists(atPath: outside + "/secret.txt"))
    }

    @Test("FIFOs neither hang nor show; a full workspace answers no_space")
    func specialFilesAndSpace() throws {
        let worker = try WorkerHarness.start(workspaceBytes: 256 << 10)
        defer { worker.stop() }
        #expect(mkfifo(worker.workspace + "/pipe", 0o644) == 0)
        #expect(chown(worker.workspace + "/pipe", WorkerHarness.payloadHostID, WorkerHarness.payloadHostID) == 0)
        #expect(try worker.error(worker.run(1, .filesRead, FilesReadArgs(path: "pipe"))).code == .invalidRequest)
        #expect(try worker.error(worker.run(2, .filesWrite, FilesWriteArgs(path: "pipe", content: "x"))).code == .invalidRequest)
        #expect(try worker.result(FilesListResult.self, worker.run(3, .filesList, FilesListArgs())).entries.isEmpty)

        let big = Data(repeating: 0x61, count: 400 << 10).base64EncodedString()
        let full = try worker.error(worker.run(4, .filesWrite, FilesWriteArgs(path: "big.bin", content: big, encoding: "base64")))
        #expect(full.code == .noSpace)
    }

    @Test("a large file is refused whole and read in STDOUT frames with stream")
    func largeRead() throws {
        let worker = try WorkerHarness.start()
        defer { worker.stop() }
        let big = Data((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        #expect(FileManager.default.createFile(atPath: worker.workspace + "/big.bin", contents: big))
        let whole = try worker.error(worker.run(1, .filesRead, FilesReadArgs(path: "big.bin")))
        #expect(whole.code == .tooLarge)
        let frames = try worker.run(2, .filesRead, FilesReadArgs(path: "big.bin", stream: true))
        #expect(Data(frames.filter { $0.type == .stdout }.flatMap(\.payload)) == big)
        let result = try worker.result(FilesReadResult.self, frames)
        #expect(result.size == big.count && result.content == nil)
    }
}
