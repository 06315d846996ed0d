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
    let pipeline: CallPipeline
    let storage: StorageGauge
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
        return try await metered(.filesList, ["prefix": prefix.map(Value.string) ?? .null], request, context,
                                 deferred: { try DeferredCall(.filesList, args, deadline: Self.deadline) }) { tenant, _ in
            let payload = try await call.run(.filesList, args, tenant: tenant, requestID: context.requestID,
                                             deadline: Self.deadline)
            return (Self.json(payload), Data(payload))
        }
    }

    func read(_ request: Request, context: APIRequestContext) async throws -> Response {
        let path = try Self.checkedPath(Self.rawPath(request, context: context))
        let args = FilesReadArgs(path: path, stream: true)
        return try await metered(.filesRead, ["path": .string(path)], request, context, deferred: {
            try DeferredCall(.filesRead, args, output: .bytes, deadline: Self.deadline)
        }) { tenant, _ in
            // Streamed: the bytes come as chunks, so a file may be larger than one frame.
            var bytes: [UInt8] = []
            _ = try await call.run(.filesRead, args, tenant: tenant, requestID: context.requestID,
                                   deadline: Self.deadline) { event in
                if case .stdout(let chunk) = event { bytes += chunk }
            }
            // File contents are not kept for replays.
            return (Response(status: .ok, headers: [.contentType: "application/octet-stream"],
                             body: .init(byteBuffer: ByteBuffer(bytes: bytes))), nil)
        }
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
        return try await metered(.filesWrite, ["path": .string(path), "bytes": Value(body.readableBytes)], request, context,
                                 bytesIn: Int64(body.readableBytes), deferred: {
            try DeferredCall(steps: pieces.map { (Tool.filesWrite, $0) }, successStatus: 201, deadline: Self.deadline)
        }) { tenant, limits in
            let limit = limits[Metric.storageBytes]
            try await storage.checkRoom(for: body.readableBytes, tenant: tenant, limit: limit, requestID: context.requestID)
            var payload: [UInt8] = []
            do {
                for piece in pieces {
                    payload = try await call.run(.filesWrite, piece, tenant: tenant, requestID: context.requestID,
                                                 deadline: Self.deadline)
                }
            } catch {
                // A write cut short (a full workspace) may still have added bytes.
                _ = await storage.refresh(tenant, limit: limit, requestID: context.requestID)
                throw error
            }
            _ = await storage.refresh(tenant, limit: limit, requestID: context.requestID)
            return (Self.json(payload, status: .created), Data(payload))
        }
    }

    func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let path = try Self.checkedPath(Self.rawPath(request, context: context))
        return try await metered(.filesDelete, ["path": .string(path)], request, context, deferred: {
            try DeferredCall(.filesDelete, FilesDeleteArgs(path: path), deadline: Self.deadline)
        }) { tenant, limits in
            let payload = try await call.run(.filesDelete, FilesDeleteArgs(path: path), tenant: tenant,
                                             requestID: context.requestID, deadline: Self.deadline)
            _ = await storage.refresh(tenant, limit: limits[Metric.storageBytes], requestID: context.requestID)
            return (Self.json(payload), Data(payload))
        }
    }

    /// One files call through the pipeline: the policy decides, the meter
    /// reserves, `work` runs, the meter settles. `work` returns the response
    /// and the body to keep for idempotent replays.
    private func metered(_ tool: Tool, _ args: [String: Value], _ request: Request, _ context: APIRequestContext,
                         bytesIn: Int64 = 0, deferred: () throws -> DeferredCall,
                         _ work: @Sendable (Tenant, EffectiveLimits) async throws -> (Response, Data?)) async throws -> Response {
        let tenant = try tenant(context)
        let limits = try await pipeline.meter.limits(for: tenant)
        let start = try await pipeline.start(tenant: tenant, tool: tool.rawValue, args: args, limits: limits,
                                             requestID: context.requestID,
                                             idempotencyKey: request.headers[ExecController.idempotencyKey],
                                             deferred: deferred)
        guard case .run(let ticket) = start else {
            if case .answered(let response) = start { return response }
            throw APIError.internal(requestID: context.requestID)
        }
        var response = try await pipeline.meter.finish(ticket) {
            let (response, kept) = try await work(tenant, limits)
            let size = Int64(response.body.contentLength ?? 0)
            return (response, Meter.Outcome(status: "ok", httpStatus: Int(response.status.code), ran: true,
                                            figures: CallFigures(bytesIn: bytesIn, bytesOut: size), response: kept))
        }
        response.headers.append(contentsOf: CallPipeline.warningHeaders(ticket))
        return response
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
