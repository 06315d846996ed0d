import Foundation
import Logging
import Store

/// Appends audit records: callers wait until their record is durable. The
/// store groups concurrent writes into shared commits (SQLite's write
/// batcher), so this adds no queue of its own: one hop fewer per call.
struct AuditWriter: Sendable {
    let store: any Store
    let logger: Logger

    /// Returns once the record is in the store; throws when the store refuses it.
    func append(_ record: AuditRecord) async throws {
        do {
            try await store.appendAudit([record])
        } catch {
            logger.error("an audit record could not be written", metadata: ["event": "\(record.event)", "error": "\(error)"])
            throw error
        }
    }
}
