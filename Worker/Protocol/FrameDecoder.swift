/// Cuts frames out of a byte stream that arrives in arbitrary pieces.
/// The length is checked as soon as its 4 bytes arrive, so an oversize frame
/// is refused before any of it is buffered.
public struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    /// Where the unread part of `buffer` starts; consumed bytes are dropped lazily.
    private var start = 0

    public init() {}

    /// Bytes received but not yet returned as a frame.
    public var bufferedCount: Int { buffer.count - start }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthIt()
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        compactIfWorthIt()
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or nil when more bytes are needed.
    public mutating func next() throws(FrameError) -> Frame? {
        let available = buffer.count - start
        guard available >= Frame.lengthSize else { return nil }
        let length = Int(readBigEndian(at: start))
        guard length <= Frame.maxLength else { throw FrameError.tooLarge(length: length) }
        guard length >= Frame.fixedSize else { throw FrameError.tooShort(length: length) }
        guard available >= Frame.lengthSize + length else { return nil }
        let typeByte = buffer[start + Frame.lengthSize]
        guard let type = FrameType(rawValue: typeByte) else { throw FrameError.unknownType(typeByte) }
        let callID = readBigEndian(at: start + Frame.lengthSize + 1)
        let payloadStart = start + Frame.lengthSize + Frame.fixedSize
        let payloadEnd = start + Frame.lengthSize + length
        let frame = Frame(type, callID: callID, payload: Array(buffer[payloadStart..<payloadEnd]))
        start = payloadEnd
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 256 << 10)
            start = 0
        }
        return frame
    }

    /// Call at end of stream: throws when a partial frame is left over.
    public func finish() throws(FrameError) {
        if bufferedCount > 0 { throw FrameError.truncated(buffered: bufferedCount) }
    }

    private func readBigEndian(at index: Int) -> UInt32 {
        UInt32(buffer[index]) << 24 | UInt32(buffer[index + 1]) << 16
            | UInt32(buffer[index + 2]) << 8 | UInt32(buffer[index + 3])
    }

    private mutating func compactIfWorthIt() {
        if start > 0, start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
    }
}
