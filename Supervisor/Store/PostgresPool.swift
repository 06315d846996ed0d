import Foundation

/// A bounded set of PostgreSQL connections, each owned by a thread of its
/// own: libpq blocks while it waits for the server, and that must never
/// happen on Swift's cooperative threads. Callers queue a job and await it.
///
/// Connections open on first use and after a loss. A job whose very first
/// statement finds its connection dead (the server restarted since) runs
/// again once on a new connection: nothing of it reached the server. Any
/// other loss fails the call with `StoreError.unavailable`.
final class PostgresPool: @unchecked Sendable {
    private typealias Job = (inout PostgresConnection?) -> Void

    private let connect: () throws -> PostgresConnection
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var jobs: [Job] = []
    private var closed = false
    private var threadsRunning: Int
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []

    init(size: Int, connect: @escaping () throws -> PostgresConnection) {
        self.connect = connect
        threadsRunning = max(1, size)
        for index in 0..<threadsRunning {
            let thread = Thread { [self] in serve() }
            thread.name = "warden.postgres.\(index)"
            thread.start()
        }
    }

    /// Runs `work` on a pool thread with its connection.
    func run<T: Sendable>(_ work: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        let connect = self.connect
        return try await withCheckedThrowingContinuation { continuation in
            let job: Job = { connection in
                continuation.resume(with: Self.perform(work, on: &connection, connect: connect))
            }
            condition.lock()
            defer { condition.unlock() }
            guard !closed else {
                continuation.resume(throwing: StoreError.unavailable("the PostgreSQL store is closed"))
                return
            }
            jobs.append(job)
            condition.signal()
        }
    }

    /// Finishes the queued jobs, closes every connection and waits for the threads to end.
    func close() async {
        await withCheckedContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            closed = true
            condition.broadcast()
            if threadsRunning == 0 { continuation.resume() } else { stopWaiters.append(continuation) }
        }
    }

    private func serve() {
        var connection: PostgresConnection?
        while let job = next() { job(&connection) }
        connection = nil
        condition.lock()
        threadsRunning -= 1
        let waiters = threadsRunning == 0 ? stopWaiters : []
        condition.unlock()
        waiters.forEach { $0.resume() }
    }

    private func next() -> Job? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty && !closed { condition.wait() }
        return jobs.isEmpty ? nil : jobs.removeFirst()
    }

    private static func perform<T>(_ work: (PostgresConnection) throws -> T, on connection: inout PostgresConnection?,
                                   connect: () throws -> PostgresConnection) -> Result<T, Error> {
        for attempt in 1...2 {
            do {
                let current = try connection ?? connect()
                connection = current
                current.startJob()
                return .success(try work(current))
            } catch {
                guard let lost = connection, lost.isBroken else {
                    connection?.rollBackIfNeeded()
                    return .failure(error)
                }
                connection = nil
                if attempt == 1 && lost.succeeded == 0 { continue }
                return .failure(StoreError.unavailable("lost the connection to PostgreSQL: \(error)"))
            }
        }
        return .failure(StoreError.unavailable("lost the connection to PostgreSQL twice in a row"))
    }
}
