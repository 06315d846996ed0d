import Foundation

/// Runs blocking work (a jail start, a handshake) on a thread of its own,
/// never on Swift's small cooperative pool.
enum BlockingWork {
    static func run<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
            thread.name = name
            thread.start()
        }
    }
}
