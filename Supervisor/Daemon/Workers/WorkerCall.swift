import Foundation
import Hummingbird
import NIOCore
import Store
import WorkerProtocol

/// One call through a tenant's worker, with the errors mapped to the API's.
struct WorkerCall {
    let manager: WorkerManager

    /// How often a running call checks that its client is still connected.
    static let clientCheck = Duration.milliseconds(100)

    /// Sends the call and hands each event to `handle` until the call ends.
    /// Returns the result payload. `deadline` guards against a worker that never
    /// answers; when the `client` connection closes, the call is cancelled.
    /// With `egress`, the call's jail gets the network: the session is opened
    /// under the call's tag before the call goes out, and ends (its bytes final)
    /// before this returns.
    func run<Args: Codable & Sendable>(_ tool: Tool, _ args: Args, tenant: Tenant, requestID: String,
                                       deadline: Duration, client: (any Channel)? = nil, egress: EgressSession? = nil,
                                       onChunk: (WorkerConnection.Event) async throws -> Void = { _ in }) async throws -> [UInt8] {
        let process = try await manager.acquire(tenant)
        defer { Task { await manager.release(tenant.id) } }
        let id: UInt32, events: AsyncStream<WorkerConnection.Event>
        var numbered: UInt32?
        do {
            (id, events) = try process.connection.call(tool, args, requestID: requestID) { id in
                numbered = id
                if let egress { process.egress.expect(EgressTag.call(id), egress) }
            }
        } catch let reply as ErrorReply {
            if let numbered, egress != nil { await process.egress.finish(EgressTag.call(numbered)) }
            throw Self.stopError(process, tenantID: tenant.id) ?? Self.apiError(reply, tenantID: tenant.id)
        }
        do {
            let payload = try await receive(events, id: id, process: process, tenant: tenant, deadline: deadline,
                                            client: client, onChunk: onChunk)
            if egress != nil { await process.egress.finish(EgressTag.call(id)) }
            return payload
        } catch {
            if egress != nil { await process.egress.finish(EgressTag.call(id)) }
            throw error
        }
    }

    private func receive(_ events: AsyncStream<WorkerConnection.Event>, id: UInt32, process: WorkerProcess, tenant: Tenant,
                         deadline: Duration, client: (any Channel)?,
                         onChunk: (WorkerConnection.Event) async throws -> Void) async throws -> [UInt8] {
        let watchdog = Task {
            let end = ContinuousClock.now + deadline
            // A client that went away cancels its call: its jail ends and the worker's slot is free again.
            while ContinuousClock.now < end {
                try await Task.sleep(for: client == nil ? deadline : min(Self.clientCheck, end - ContinuousClock.now))
                if let client, !client.isActive { break }
            }
            process.connection.cancel(id)
        }
        defer { watchdog.cancel() }
        do {
            for await event in events {
                switch event {
                case .result(let payload):
                    if let error = Self.stopError(process, tenantID: tenant.id), Self.wasCutShort(payload) { throw error }
                    return payload
                case .failure(let reply):
                    if reply == WorkerConnection.workerStopped, let error = Self.stopError(process, tenantID: tenant.id) { throw error }
                    throw Self.apiError(reply, tenantID: tenant.id)
                case .stdout, .stderr: try await onChunk(event)
                }
            }
        } catch let error as APIError {
            throw error
        } catch {
            // The client went away while streaming: stop the call.
            process.connection.cancel(id)
            throw error
        }
        throw Self.stopError(process, tenantID: tenant.id) ?? Self.apiError(WorkerConnection.workerStopped, tenantID: tenant.id)
    }

    static func apiError(_ reply: ErrorReply, tenantID: String) -> APIError {
        if reply == WorkerConnection.workerStopped {
            return APIError(.serviceUnavailable, code: "worker_crashed",
                            message: "the worker of tenant \(tenantID) stopped during the call; it starts again on the next call")
        }
        let status = HTTPResponse.Status(code: reply.code.httpStatus)
        let field = reply.field.map { " (field \($0))" } ?? ""
        return APIError(status, code: reply.code.rawValue, message: reply.message + field)
    }

    /// The answer for a call whose worker was stopped because its tenant was
    /// suspended or deleted: the one a new call of that tenant gets.
    static func stopError(_ process: WorkerProcess, tenantID: String) -> APIError? {
        switch process.stopReason {
        case .tenant(.suspended):
            return APIError.forbidden(code: "tenant_suspended",
                                      "tenant \(tenantID) was suspended during the call, which was stopped; ask the operator to resume it")
        case .tenant(.deleted):
            return APIError.unauthenticated("tenant \(tenantID) was deleted during the call, which was stopped")
        default:
            return nil
        }
    }

    /// Whether an exec result says the code was killed (as a stopped worker's calls are).
    static func wasCutShort(_ payload: [UInt8]) -> Bool {
        (try? WireJSON.decode(ResultStatus.self, from: payload))?.status == "signaled"
    }

    private struct ResultStatus: Decodable {
        var status: String?
    }
}
