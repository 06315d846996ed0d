import Foundation

/// Variable slots of one rule invocation (or query); comprehension and `every` bodies share
/// their rule's frame. `nil` is unbound. The slots live in the frame's own allocation, and
/// frames are reused (`FramePool`): rule invocations are many.
final class Frame: ManagedBuffer<Int, Value?> {
    static func make(size: Int) -> Frame {
        let buffer = Frame.create(minimumCapacity: size) { _ in size }
        buffer.withUnsafeMutablePointerToElements { $0.initialize(repeating: nil, count: size) }
        return unsafeDowncast(buffer, to: Frame.self)
    }

    deinit {
        withUnsafeMutablePointers { size, slots in _ = slots.deinitialize(count: size.pointee) }
    }

    subscript(slot: Int) -> Value? {
        get { withUnsafeMutablePointerToElements { $0[slot] } }
        set { withUnsafeMutablePointerToElements { $0[slot] = newValue } }
    }

    /// Unbinds every slot.
    func clear() {
        withUnsafeMutablePointers { size, slots in
            for i in 0..<size.pointee { slots[i] = nil }
        }
    }
}

/// Frames one evaluation used, kept for the next: a rule's frame is free again once its
/// evaluation returns. Every binding is undone on the way out already (`unify`, `walk` and
/// the iterations reset their slots in `defer`); `give` clears the slots all the same, so
/// that no value of one evaluation can reach another.
final class FramePool {
    private var bySize: [[Frame]] = []

    func take(_ size: Int) -> Frame {
        if size < bySize.count, let f = bySize[size].popLast() { return f }
        return Frame.make(size: size)
    }

    func give(_ f: Frame) {
        f.clear()
        let size = f.header
        while bySize.count <= size { bySize.append([]) }
        if bySize[size].count < 32 { bySize[size].append(f) }
    }
}

/// Pools for the evaluations of one prepared query, one pool per evaluation at a time.
final class FramePools: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [FramePool] = []

    func take() -> FramePool { lock.withLock { free.popLast() } ?? FramePool() }
    func give(_ pool: FramePool) { lock.withLock { if free.count < 16 { free.append(pool) } } }
}
