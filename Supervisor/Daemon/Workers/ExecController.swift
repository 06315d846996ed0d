import Foundation
import Hummingbird
import NIOCore
import Policy
import Store
import WorkerProtocol

/// `POST /v1/exec`: runs code in a fresh tool jail of the tenant's worker,
/// whole (JSON) or streamed (`Accept: text/event-stream`).
struct ExecController {
    let call: WorkerCall
    let limits: ExecLimits
    let pipeline: CallPipeline
    let storage: StorageGauge
    /// Calls with `network: true` go through it; nil refuses them.
    let egress: EgressProxy?

    struct ExecLimits: Sendable {
        var maxTimeoutMs: Int
        var maxCpuMs: Int
        var maxMemoryMB: Int
        var maxOutputBytes: Int

        /// The server's ceilings lowered to the tenant's plan.
        func lowered(to plan: EffectiveLimits) -> ExecLimits {
            ExecLimits(maxTimeoutMs: min(maxTimeoutMs, plan.ceiling(Metric.callTimeoutMs) ?? .max),
                       maxCpuMs: min(maxCpuMs, plan.ceiling(Metric.callCpuMs) ?? .max),
                       maxMemoryMB: min(maxMemoryMB, plan.ceiling(Metric.callMemoryMB) ?? .max),
                       maxOutputBytes: min(maxOutputBytes, plan.ceiling(Metric.callOutputBytes) ?? .max))
        }
    }

    struct Request: Decodable, Sendable {
        var language: String
        var code: String
        var stdin: String?
        var args: [String]?
        var files: [ExecFile]?
        var timeoutMs: Int?
        var cpuMs: Int?
        var memoryMb: Int?
        var outputBytes: Int?
        var network: Bool?

        enum CodingKeys: String, CodingKey {
            case language, code, stdin, args, files, network
            case timeoutMs = "timeout_ms"
            case cpuMs = "cpu_ms"
            case memoryMb = "memory_mb"
            case outputBytes = "output_bytes"
        }
    }

    static let languages = ["python", "node", "bash"]

    /// Checks the request against the ceilings; 400 for what is not understood, 422 naming the field.
    func validate(_ r: Request, stream: Bool, limits: ExecLimits) throws -> ExecArgs {
        guard Self.languages.contains(r.language) else {
            throw APIError.invalidRequest("unknown language '\(r.language)'; use one of \(Self.languages.joined(separator: ", "))")
        }
        func check(_ value: Int?, _ field: String, _ range: ClosedRange<Int>, unit: String) throws {
            guard let value else { return }
            guard range.contains(value) else {
                throw APIError.invalidField("\(field) must be between \(range.lowerBound) and \(range.upperBound) \(unit), got \(value)")
            }
        }
        try check(r.timeoutMs, "timeout_ms", 1...limits.maxTimeoutMs, unit: "ms")
        try check(r.cpuMs, "cpu_ms", 1...limits.maxCpuMs, unit: "ms")
        try check(r.memoryMb, "memory_mb", 16...limits.maxMemoryMB, unit: "MiB")
        try check(r.outputBytes, "output_bytes", 0...limits.maxOutputBytes, unit: "bytes")
        if r.network == true && egress == nil {
            throw APIError.invalidField("network must be false: this server runs without the egress proxy (egress.enabled)")
        }
        if (r.files?.count ?? 0) > 1000 { throw APIError.invalidField("files may hold at most 1000 entries") }
        return ExecArgs(language: r.language, code: r.code, stdin: r.stdin, args: r.args, files: r.files,
                        timeoutMs: r.timeoutMs ?? min(10_000, limits.maxTimeoutMs), cpuMs: r.cpuMs,
                        memoryMb: r.memoryMb ?? min(256, limits.maxMemoryMB),
                        outputBytes: r.outputBytes ?? min(1 << 20, limits.maxOutputBytes),
                        stream: stream, network: r.network ?? false)
    }

    func exec(_ request: Hummingbird.Request, context: APIRequestContext) async throws -> Response {
        guard let tenant = context.authentication?.tenant else { throw APIError.unauthenticated("missing API key") }
        let body = try await JSONBody.decode(Request.self, from: request, context: context)
        let wantsStream = request.headers[.accept]?.contains("text/event-stream") == true
        let plan = try await pipeline.meter.limits(for: tenant)
        let ceilings = limits.lowered(to: plan)
        let args = try validate(body, stream: wantsStream, limits: ceilings)
        let deadline = Duration.milliseconds((args.timeoutMs ?? ceilings.maxTimeoutMs) + 15_000)
        let requestID = context.requestID
        let start = try await pipeline.start(tenant: tenant, tool: Tool.exec.rawValue, args: Self.policyArgs(args),
                                             limits: plan, requestID: requestID,
                                             idempotencyKey: request.headers[Self.idempotencyKey],
                                             egress: args.network == true) {
            var whole = args
            whole.stream = false
            return try DeferredCall(.exec, whole, deadline: deadline)
        }
        let ticket: Meter.Ticket
        switch start {
        case .answered(let response): return response
        case .run(let reserved): ticket = reserved
        }
        var headers = CallPipeline.warningHeaders(ticket)
        let call = self.call
        let pipeline = self.pipeline
        let storage = self.storage
        let storageLimit = plan[Metric.storageBytes]
        let client = context.channel
        // The call's connections, counted into its settlement.
        let session = args.network == true ? egress?.session(tenant: tenant, via: Tool.exec.rawValue, requestID: requestID) : nil

        guard wantsStream else {
            let result = try await pipeline.meter.finish(ticket) {
                let payload = try await call.run(.exec, args, tenant: tenant, requestID: requestID, deadline: deadline,
                                                 client: client, egress: session)
                return try await Self.settled(payload, storage, tenant, storageLimit, requestID, keepResponse: true,
                                              egressBytes: session?.bytes ?? 0)
            }
            headers[.contentType] = "application/json; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: result)))
        }
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            do {
                let result = try await pipeline.meter.finish(ticket) {
                    let payload = try await call.run(.exec, args, tenant: tenant, requestID: requestID, deadline: deadline,
                                                     client: client, egress: session) { event in
                        switch event {
                        case .stdout(let bytes): try await writer.write(Self.event("stdout", chunk: bytes))
                        case .stderr(let bytes): try await writer.write(Self.event("stderr", chunk: bytes))
                        default: break
                        }
                    }
                    return try await Self.settled(payload, storage, tenant, storageLimit, requestID, keepResponse: false,
                                                  egressBytes: session?.bytes ?? 0)
                }
                try await writer.write(Self.event("result", json: result))
            } catch let error as APIError {
                let body = try JSONCoding.encoder.encode(APIError.ErrorBody(error: .init(code: error.code, message: error.message)))
                try await writer.write(Self.event("error", json: body))
            }
            try await writer.finish(nil)
        })
    }

    /// The answer to a finished call (the worker's result with the request id,
    /// and `storage_full` when it applies) and the ledger's view of it; the
    /// result's figures are decoded once for both. `keepResponse`: keep the
    /// answer for idempotent replays (not for a stream, already sent).
    static func settled(_ payload: [UInt8], _ storage: StorageGauge, _ tenant: Tenant, _ limit: Limit?,
                        _ requestID: String, keepResponse: Bool, egressBytes: Int64) async throws -> (Data, Meter.Outcome) {
        let figures = try? JSONDecoder().decode(ResultFigures.self, from: Data(payload))
        let full = await storageFull(status: figures?.status, storage, tenant, limit, requestID)
        let data = try withRequestID(payload, requestID, storageFull: full)
        var outcome = outcome(figures, resultBytes: payload.count, response: keepResponse ? data : nil)
        outcome.figures.egressBytes = egressBytes
        return (data, outcome)
    }

    /// Whether the workspace was full when the code ended. As root, where the
    /// image's size stops writes (they fail, and so does the code that cared),
    /// only a call that did not end `ok` waits for the measurement; after a
    /// successful one the storage gauge is refreshed in the background, off
    /// the answer's path, once per burst of calls. Rootless nothing stops the writes, so every call
    /// is measured before it is answered.
    static func storageFull(status: String?, _ storage: StorageGauge, _ tenant: Tenant, _ limit: Limit?,
                            _ requestID: String) async -> Bool {
        guard status == "ok", storage.rootMode else {
            return await storage.refresh(tenant, limit: limit, requestID: requestID)?.full ?? false
        }
        storage.refreshSoon(tenant, limit: limit, requestID: requestID)
        return false
    }

    static let idempotencyKey = HTTPFields.Element.Name("Idempotency-Key")!

    /// The figures of a result the ledger keeps (the output itself is skipped).
    struct ResultFigures: Decodable {
        var status: String?
        var cpuMs: Int64?
        var wallMs: Int64?
        var memoryPeakBytes: Int64?

        enum CodingKeys: String, CodingKey {
            case status
            case cpuMs = "cpu_ms"
            case wallMs = "wall_ms"
            case memoryPeakBytes = "memory_peak_bytes"
        }
    }

    /// The ledger's view of a finished exec: its status and measured figures;
    /// bytes out are the size of the result sent.
    static func outcome(_ figures: ResultFigures?, resultBytes: Int, response: Data?) -> Meter.Outcome {
        Meter.Outcome(status: figures?.status ?? "ok", httpStatus: 200, ran: true,
                      figures: CallFigures(cpuMs: figures?.cpuMs ?? 0, wallMs: figures?.wallMs ?? 0,
                                           memoryPeakBytes: figures?.memoryPeakBytes ?? 0, bytesOut: Int64(resultBytes)),
                      response: response)
    }

    /// What the policy sees of an exec call: its limits and shape, and the code itself.
    static func policyArgs(_ a: ExecArgs) -> [String: Value] {
        var out: [String: Value] = [
            "language": .string(a.language), "code": .string(a.code), "network": .bool(a.network ?? false),
            "args": .array((a.args ?? []).map(Value.string)),
            "files": .array((a.files ?? []).map { .string($0.path) }),
            "stdin_bytes": Value(a.stdin?.utf8.count ?? 0),
        ]
        for (name, value) in [("timeout_ms", a.timeoutMs), ("cpu_ms", a.cpuMs), ("memory_mb", a.memoryMb),
                              ("output_bytes", a.outputBytes)] {
            if let value { out[name] = Value(value) }
        }
        return out
    }

    /// The worker's result with the request id added (and `storage_full` when the
    /// workspace was full once the code ended: its writes failed with ENOSPC),
    /// written in before the object's closing brace, because decoding and
    /// encoding the whole result again cost a quarter of a millisecond per call.
    static func withRequestID(_ payload: [UInt8], _ requestID: String, storageFull: Bool = false) throws -> Data {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }
        guard let open = payload.firstIndex(where: { !isSpace($0) }), payload[open] == UInt8(ascii: "{"),
              let close = payload.lastIndex(where: { !isSpace($0) }), close > open, payload[close] == UInt8(ascii: "}") else {
            throw APIError(.internalServerError, code: "internal", message: "the worker sent a result that is not an object")
        }
        let isEmpty = !payload[(open + 1)..<close].contains { !isSpace($0) }
        var result = Data(payload[open..<close])
        result.append(contentsOf: Array((isEmpty ? "" : ",").utf8) + Array("\"request_id\":".utf8))
        result.append(try JSONEncoder().encode(requestID))
        if storageFull { result.append(contentsOf: Array(",\"storage_full\":true".utf8)) }
        result.append(UInt8(ascii: "}"))
        return result
    }

    /// A server-sent event carrying an output chunk as text (or base64 when not UTF-8).
    static func event(_ name: String, chunk: [UInt8]) -> ByteBuffer {
        let text = String(validating: chunk, as: UTF8.self)
        let object: [String: Any] = text.map { ["data": $0, "encoding": "utf8"] }
            ?? ["data": Data(chunk).base64EncodedString(), "encoding": "base64"]
        let json = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return event(name, json: json)
    }

    static func event(_ name: String, json: Data) -> ByteBuffer {
        var buffer = ByteBuffer(string: "event: \(name)\ndata: ")
        buffer.writeBytes(json)
        buffer.writeString("\n\n")
        return buffer
    }
}
