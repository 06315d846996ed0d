#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import WorkerProtocol

/// The `files.*` tools: list, read, write and delete inside the workspace.
final class FilesTool: Sendable {
    private let workspace: Workspace
    private let socket: FrameSocket

    init(workspace: Workspace, socket: FrameSocket) {
        self.workspace = workspace
        self.socket = socket
    }

    func list(_ args: FilesListArgs, callID: UInt32) throws(ErrorReply) -> Frame {
        let listing = try WorkspaceListing.list(workspace, prefix: args.prefix ?? "")
        var result = FilesListResult(entries: listing.entries, truncated: listing.truncated)
        // Long paths can make even 10,000 entries too big for a frame: keep what fits.
        while true {
            guard let payload = try? WireJSON.encode(result) else {
                throw ErrorReply(.internal, "the listing could not be encoded")
            }
            if payload.count <= Frame.maxPayload { return Frame(.result, callID: callID, payload: payload) }
            let keep = Int(Double(result.entries.count) * Double(Frame.maxPayload) / Double(payload.count) * 0.95)
            result.entries = Array(result.entries.prefix(keep))
            result.truncated = true
        }
    }

    func read(_ args: FilesReadArgs, callID: UInt32) throws(ErrorReply) -> Frame {
        let path = try WorkspacePath(args.path)
        let (fd, size) = try workspace.openForReading(path)
        defer { close(fd) }
        guard size <= FilesLimits.maxReadBytes else {
            throw ErrorReply(.tooLarge, "\(path.relative) has \(size) bytes; files.read returns at most \(FilesLimits.maxReadBytes)")
        }
        let streamed = args.stream ?? false
        guard streamed || size <= FilesLimits.maxReadBytesPerFrame else {
            throw ErrorReply(.tooLarge, "\(path.relative) has \(size) bytes; over \(FilesLimits.maxReadBytesPerFrame) bytes read it with stream: true")
        }
        let bytes: [UInt8]
        switch FileIO.readAll(fd, limit: FilesLimits.maxReadBytes) {
        case .success(let b): bytes = b
        case .failure(let f): throw Workspace.failure(f.errno, path.relative)
        }
        guard streamed else {
            return try ToolRunner.resultFrame(FilesReadResult(path: path.relative, size: bytes.count,
                                                              content: Data(bytes).base64EncodedString()), callID: callID)
        }
        do { try socket.write(.stdout, callID: callID, chunking: bytes) } catch {
            throw ErrorReply(.internal, "the supervisor stopped reading: \(error)")
        }
        return try ToolRunner.resultFrame(FilesReadResult(path: path.relative, size: bytes.count, content: nil), callID: callID)
    }

    func write(_ args: FilesWriteArgs, callID: UInt32) throws(ErrorReply) -> Frame {
        let path = try WorkspacePath(args.path)
        let bytes = try ContentEncoding.decode(args.content, encoding: args.encoding, field: "args")
        let size = try workspace.write(path, bytes: bytes, append: args.append ?? false)
        return try ToolRunner.resultFrame(FilesWriteResult(path: path.relative, size: size), callID: callID)
    }

    func delete(_ args: FilesDeleteArgs, callID: UInt32) throws(ErrorReply) -> Frame {
        let path = try WorkspacePath(args.path)
        try WorkspaceRemoval.remove(path, in: workspace)
        return try ToolRunner.resultFrame(FilesDeleteResult(path: path.relative), callID: callID)
    }
}
