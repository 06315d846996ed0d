/// How host uid/gid ranges are handed to tenants in root mode.
///
/// Each tenant gets `size` consecutive ids starting at or above `base`; a new
/// range starts where the highest existing one ends, so ranges never overlap,
/// and a deleted tenant's range is never handed out again (files it left on
/// some volume can never become another tenant's).
public struct HostIDRanges: Sendable, Equatable {
    public var base: Int64
    public var size: Int64

    public static let `default` = HostIDRanges(base: 200_000, size: 65_536)
    /// uid_t is 32 bits and (uid_t)-1 means "no change" to the kernel.
    static let highestUsableID: Int64 = Int64(UInt32.max) - 1

    public init(base: Int64, size: Int64) {
        self.base = base
        self.size = size
    }

    /// The next range's base given the end (base + count) of the highest range
    /// already allocated, if any.
    public func nextBase(afterEnd highestEnd: Int64?) throws -> Int64 {
        guard base > 0, size > 0 else {
            throw StoreError.invalid("host id ranges need a positive base and size, got base \(base) size \(size)")
        }
        let start = max(base, highestEnd ?? base)
        guard start + size - 1 <= Self.highestUsableID else {
            throw StoreError.hostIDRangesExhausted(
                "no host uid range of \(size) ids is left above \(start); lower the range size or the base")
        }
        return start
    }
}
