import Foundation
import Hummingbird
import Store
import WorkerProtocol

/// One call through a tenant's worker, with the errors mapped to the API's.
struct WorkerCall {
    let manager: WorkerManager

    /// Sends the call and hands each event to `handle` until the call ends.
    /// Returns the result payload. `deadline` guards against a worker that never answers.
    func run<Args: Codable & Sendable>(_ tool: Tool, _ args: Args, tenant: Tenant, requestID: String,
                                       deadline: Duration,
                                       onChunk: (WorkerConnection.Event) async throws -> Void = { _ in }) async throws -> [UInt8] {
        let process = try await manager.acquire(tenant)
        defer { Task { await manager.release(tenant.id) } }
        let (id, events) = try process.connection.call(tool, args, requestID: requestID)
        let watchdog = Task {
            try await Task.sleep(for: deadline)
            process.connection.cancel(id)
        }
        defer { watchdog.cancel() }
        do {
            for await event in events {
                switch event {
                case .result(let payload): return payload
                case .failure(let reply): throw Self.apiError(reply, tenantID: tenant.id)
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
        throw Self.apiError(WorkerConnection.workerStopped, tenantID: tenant.id)
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
}
