import Foundation
import Hummingbird
import NIOCore
import Policy
import Store
import WorkerProtocol

/// `/v1/files`: the tenant's workspace through its worker. Paths are checked
/// here and again by the worker, which opens them beneath the workspace only.
struct FilesController {
    let call: WorkerCall
    let maxBodyBytes: Int
    let gate: CallGate
    static let deadline = Duration.seconds(60)
    /// Raw bytes per write call: base64 of this fits one protocol frame.
    static let writePiece = 512 * 1024

    /// Relative, no `..`, no NUL, no empty segments: 400 before anything runs.
    static func checkedPath(_ raw: String) throws -> String {
        let path = raw.removingPercentEncoding ?? raw
        guard !path.isEmpty, !path.hasPrefix("/"), !path.contains("\0"), path.utf8.count <= 4096 else {
            throw APIError.invalidRequest("the path '\(raw)' must be relative to the workspace, without NUL bytes")
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else {
            throw APIError.invalidRequest("the path '\(raw)' must not contain '..', '.' or empty segments")
        }
        return path
    }

    private func tenant(_ context: APIRequestContext) throws -> Tenant {
        guard let tenant = context.authentication?.tenant else { throw APIError.unauthenticated("missing API key") }
        return tenant
    }

    func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        var prefix = request.uri.queryParameters.get("prefix")
        if let p = prefix, !p.isEmpty { prefix = try Self.checkedPrefix(p) }
        let args = FilesListArgs(prefix: prefix)
        if let held = try await admit(.filesList, ["prefix": prefix.map(Value.string) ?? .null], context,
                                      deferred: { try DeferredCall(.filesList, args, deadline: Self.deadline) }) {
            return held
        }
        let payload = try await call.run(.filesList, args, tenant: try tenant(context),
                                         requestID: context.requestID, deadline: Self.deadline)
        return Self.json(payload)
    }

    func read(_ request: Request, context: APIRequestContext) async throws -> Response {
        let path = try Self.checkedPath(Self.rawPath(request, context: context))
        if let held = try await admit(.filesRead, ["path": .string(path)], context, deferred: {
            try DeferredCall(.filesRead, FilesReadArgs(path: path, stream: true), output: .bytes, deadline: Self.deadline)
        }) {
            return held
        }
        // Streamed: the bytes come as chunks, so a file may be larger than one frame.
        var bytes: [UInt8] = []
        _ = try await call.run(.filesRead, FilesReadArgs(path: path, stream: true), tenant: try tenant(context),
                               requestID: context.requestID, deadline: Self.deadline) { event in
            if case .stdout(let chunk) = event { bytes += chunk }
        }
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func write(_ request: Request, context: APIRequestContext) async throws -> Response {
        let path = try Self.checkedPath(Self.rawPath(request, context: context))
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: context.bodyLimit)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limit: context.bodyLimit)
        }
        let pieces = Self.writePieces(path: path, data: Data(body.readableBytesView))
        if let held = try await admit(.filesWrite, ["path": .string(path), "bytes": Value(body.readableBytes)], context,
                                      deferred: {
            try DeferredCall(steps: pieces.map { (Tool.filesWrite, $0) }, successStatus: 201, deadline: Self.deadline)
        }) {
            return held
        }
        var payload: [UInt8] = []
        for piece in pieces {
            payload = try await call.run(.filesWrite, piece, tenant: try tenant(context),
                                         requestID: context.requestID, deadline: Self.deadline)
        }
        return Self.json(payload, status: .created)
    }

    func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let path = try Self.checkedPath(Self.rawPath(request, context: context))
        if let held = try await admit(.filesDelete, ["path": .string(path)], context, deferred: {
            try DeferredCall(.filesDelete, FilesDeleteArgs(path: path), deadline: Self.deadline)
        }) {
            return held
        }
        let payload = try await call.run(.filesDelete, FilesDeleteArgs(path: path), tenant: try tenant(context),
                                         requestID: context.requestID, deadline: Self.deadline)
        return Self.json(payload)
    }

    /// One call holds at most one frame: larger bodies go in appended pieces.
    static func writePieces(path: String, data: Data) -> [FilesWriteArgs] {
        var pieces: [FilesWriteArgs] = []
        var offset = 0
        repeat {
            let end = min(data.count, offset + writePiece)
            pieces.append(FilesWriteArgs(path: path, content: data[offset..<end].base64EncodedString(), encoding: "base64",
                                         append: offset > 0))
            offset = end
        } while offset < data.count
        return pieces
    }

    /// The policy decides first; a held call answers 202 at once.
    private func admit(_ tool: Tool, _ args: [String: Value], _ context: APIRequestContext,
                       deferred: () throws -> DeferredCall) async throws -> Response? {
        try await gate.admit(tenant: try tenant(context), tool: tool.rawValue, args: args, requestID: context.requestID,
                             deferred: deferred)
    }

    /// The path after `/v1/files/` as sent: the router's catch-all drops empty
    /// segments, which would turn `/v1/files//etc/passwd` into `etc/passwd`.
    static func rawPath(_ request: Request, context: APIRequestContext) -> String {
        let prefix = "/v1/files/"
        let path = request.uri.path
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : context.parameters.getCatchAll().joined(separator: "/")
    }

    /// A prefix may end in a partial name ("logs/2026-"), but follows the path rules otherwise.
    static func checkedPrefix(_ raw: String) throws -> String {
        let trimmed = raw.hasSuffix("/") ? String(raw.dropLast()) : raw
        _ = try checkedPath(trimmed)
        return raw
    }

    static func json(_ payload: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: payload)))
    }
}
