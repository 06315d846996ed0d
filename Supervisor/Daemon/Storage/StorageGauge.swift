import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import Store
import WorkerProtocol

/// The storage.bytes gauge: after a call that can change the workspace
/// (files write and delete, exec), the worker measures it (statfs of its
/// image as root, a bounded walk of the directory rootless) and the level is
/// recorded for `warden quota show` and `GET /v1/usage`.
struct StorageGauge: Sendable {
    let call: WorkerCall
    let store: any Store
    let logger: Logger
    /// Root: a tenant with a storage limit has an image, whose size enforces it.
    let rootMode: Bool
    /// Tenants with a background measurement already waiting to run.
    private let waiting = NIOLockedValueBox<Set<String>>([])

    /// Measures in the background, half a second from now, once for however
    /// many calls end before then: a burst of calls costs one measurement,
    /// and the last state of the workspace is always the one recorded.
    func refreshSoon(_ tenant: Tenant, limit: Limit?, requestID: String) {
        let first = waiting.withLockedValue { $0.insert(tenant.id).inserted }
        guard first else { return }
        Task {
            try? await Task.sleep(for: .milliseconds(500))
            waiting.withLockedValue { _ = $0.remove(tenant.id) }
            // Suspended or deleted meanwhile: measuring would start its worker again.
            guard let current = try? await store.tenant(id: tenant.id), current.status == .active else { return }
            _ = await refresh(current, limit: limit, requestID: requestID)
        }
    }

    /// A filesystem workspace with less than this left for files counts as
    /// full: 1 MiB, or 1 % of a larger one (ext4 keeps back some room for
    /// writes under way, so a refused write can leave a little free).
    static func fullBelow(capacity: Int) -> Int { max(1 << 20, capacity / 100) }

    struct Reading: Sendable {
        var usage: WorkspaceUsage
        /// The workspace has no room left for files under its limit.
        var full: Bool
        /// The kernel enforces the limit (an image); otherwise only the files API does.
        var enforcedByFilesystem: Bool { usage.capacityBytes != nil }
    }

    /// Measures and records; nil (logged) when the worker could not say.
    func refresh(_ tenant: Tenant, limit: Limit?, requestID: String) async -> Reading? {
        let usage: WorkspaceUsage
        do {
            let payload = try await call.run(.workspaceUsage, WorkspaceUsageArgs(), tenant: tenant, requestID: requestID,
                                             deadline: .seconds(30))
            usage = try WireJSON.decode(WorkspaceUsage.self, from: payload)
        } catch {
            logger.warning("the workspace could not be measured", metadata: ["tenant_id": "\(tenant.id)", "error": "\(error)"])
            return nil
        }
        do {
            try await store.setGauge(tenantID: tenant.id, metric: Metric.storageBytes, value: Double(usage.usedBytes))
        } catch {
            logger.warning("the storage gauge could not be recorded", metadata: ["tenant_id": "\(tenant.id)", "error": "\(error)"])
        }
        let overLimit = limit.map { $0.hard && Double(usage.usedBytes) >= $0.limit } ?? false
        let noRoom = usage.availableBytes.map { $0 < Self.fullBelow(capacity: usage.capacityBytes ?? 0) } ?? false
        return Reading(usage: usage, full: overLimit || noRoom)
    }

    /// Rootless, nothing stops a write at the limit but this: refuse a files
    /// write that would take the workspace past a hard storage.bytes (507).
    /// As root the image's own size refuses it, exactly, so this is skipped.
    func checkRoom(for bytes: Int, tenant: Tenant, limit: Limit?, requestID: String) async throws {
        guard !rootMode, let limit, limit.hard,
              let reading = await refresh(tenant, limit: limit, requestID: requestID) else { return }
        let used = reading.usage.usedBytes
        guard Double(used + bytes) > limit.limit else { return }
        throw APIError(HTTPResponse.Status(code: 507), code: ErrorCode.noSpace.rawValue,
                       message: "the workspace is full: it holds \(used) bytes, storage.bytes allows \(Int(limit.limit)) and this write adds \(bytes); delete files to make room")
    }
}
