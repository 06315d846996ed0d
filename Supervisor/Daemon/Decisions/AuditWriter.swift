import Foundation
import Logging
import Store

/// Appends audit records with group commit: callers wait until their record
/// is durable, and everyone waiting at the same moment shares one transaction,
/// so concurrent calls do not queue behind one fsync each.
actor AuditWriter {
    private let store: any Store
    private let logger: Logger
    private var pending: [(record: AuditRecord, done: CheckedContinuation<Void, any Error>)] = []
    private var flushing = false

    init(store: any Store, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Returns once the record is in the store; throws when the store refuses it.
    func append(_ record: AuditRecord) async throws {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((record, continuation))
            if !flushing {
                flushing = true
                Task { await self.flush() }
            }
        }
    }

    private func flush() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            do {
                try await store.appendAudit(batch.map(\.record))
                for item in batch { item.done.resume() }
            } catch {
                logger.error("audit records could not be written", metadata: ["count": "\(batch.count)", "error": "\(error)"])
                for item in batch { item.done.resume(throwing: error) }
            }
        }
        flushing = false
    }
}
