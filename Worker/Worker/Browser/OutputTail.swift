import Synchronization

/// The last bytes a process wrote, kept for the message of an error that needs a reason.
final class OutputTail: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    private let limit: Int

    init(limit: Int = 4096) {
        self.limit = limit
    }

    func append(_ chunk: UnsafeRawBufferPointer) {
        bytes.withLock { tail in
            tail.append(contentsOf: chunk)
            if tail.count > limit { tail.removeFirst(tail.count - limit) }
        }
    }

    /// The last three lines, joined.
    var lastLines: String {
        String(decoding: bytes.withLock { $0 }, as: UTF8.self).split(separator: "\n").suffix(3).joined(separator: " | ")
    }
}
