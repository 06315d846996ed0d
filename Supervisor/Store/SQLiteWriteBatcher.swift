import Foundation
import GRDB

/// Group commit for the hot writes (reserve and settle): writes that arrive
/// while a transaction runs are queued and then run together in the next one,
/// each in its own savepoint, so one failing write rolls back alone. Callers
/// resume only after the commit: durability is as if each had its own
/// transaction, and limits stay exact because the writes still run one after
/// another.
final class SQLiteWriteBatcher: @unchecked Sendable {
    private struct Item {
        /// Runs the write inside the batch's transaction; returns how to resume its caller once the commit is known.
        let run: (Database) -> (Result<Void, Error>) -> Void
        /// Resumes the caller when the batch failed before this write ran.
        let fail: (Error) -> Void
    }

    private let pool: DatabasePool
    private let condition = NSCondition()
    private var pending: [Item] = []
    private var stopped = false

    /// The writes run on a thread of their own: GRDB's synchronous write blocks
    /// the thread that waits for it, and a blocked thread of Dispatch's small
    /// pool (or of Swift's cooperative pool) starves everything else queued there.
    init(pool: DatabasePool) {
        self.pool = pool
        let thread = Thread { [self] in self.run() }
        thread.name = "warden.store.batch"
        thread.start()
    }

    /// Lets the thread end once the writes already queued are done.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let item = Item(run: { db in
                var value: T?
                do {
                    try db.inSavepoint {
                        value = try work(db)
                        return .commit
                    }
                } catch {
                    return { _ in continuation.resume(throwing: error) }
                }
                return { commit in
                    switch (commit, value) {
                    case (.success, let value?): continuation.resume(returning: value)
                    case (.failure(let error), _): continuation.resume(throwing: error)
                    case (.success, nil): continuation.resume(throwing: StoreError.invalid("a batched write produced no value"))
                    }
                }
            }, fail: { continuation.resume(throwing: $0) })
            condition.lock()
            if stopped {
                condition.unlock()
                item.fail(StoreError.unavailable("the store is closed"))
                return
            }
            pending.append(item)
            condition.signal()
            condition.unlock()
        }
    }

    private func run() {
        while true {
            condition.lock()
            while pending.isEmpty && !stopped { condition.wait() }
            let batch = pending
            pending = []
            condition.unlock()
            if batch.isEmpty { return }
            var resumes: [(Result<Void, Error>) -> Void] = []
            do {
                try pool.write { db in
                    for item in batch { resumes.append(item.run(db)) }
                }
                for resume in resumes { resume(.success(())) }
            } catch {
                for resume in resumes { resume(.failure(error)) }
                for item in batch.dropFirst(resumes.count) { item.fail(error) }
            }
        }
    }
}
