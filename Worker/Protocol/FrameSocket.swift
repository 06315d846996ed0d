#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Frames over a connected stream socket with blocking I/O. One thread reads;
/// any number of threads write, one whole frame at a time, so frames of
/// concurrent calls never mix. The socket stays owned by the caller.
public final class FrameSocket: Sendable {
    public let fd: Int32
    private let reader = Mutex(Reader())

    /// The decoder and the buffer that receives from the socket, kept between reads.
    private struct Reader: ~Copyable {
        var decoder = FrameDecoder()
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
    }
    private let writeLock = Mutex(())

    public init(fd: Int32) {
        self.fd = fd
    }

    /// Blocks until a whole frame arrives. nil at a clean end of stream (the peer closed).
    public func readFrame() throws(FrameError) -> Frame? {
        try reader.withLock { r throws(FrameError) -> Frame? in
            while true {
                if let frame = try r.decoder.next() { return frame }
                let n = r.chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FrameError.io(operation: "read", errno: errno)
                }
                if n == 0 {
                    try r.decoder.finish()
                    return nil
                }
                r.chunk.withUnsafeBytes { r.decoder.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        }
    }

    /// Writes `bytes` as frames of `type`, each as large as a frame may be
    /// (a call's output, a file, a browser's body). Throws when the peer is gone.
    public func write<Bytes: RandomAccessCollection>(_ type: FrameType, callID: UInt32, chunking bytes: Bytes)
        throws(FrameError) where Bytes.Element == UInt8, Bytes.Index == Int {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let end = min(bytes.endIndex, offset + Frame.maxPayload)
            try write(Frame(type, callID: callID, payload: Array(bytes[offset..<end])))
            offset = end
        }
    }

    /// Writes one frame whole. Throws when the frame is too large or the peer is gone.
    public func write(_ frame: Frame) throws(FrameError) {
        let bytes = try frame.encoded()
        try writeLock.withLock { _ throws(FrameError) in
            var sent = 0
            while sent < bytes.count {
                // MSG_NOSIGNAL: a vanished peer is an error here, not a SIGPIPE.
                let n = bytes.withUnsafeBytes { all in
                    let rest = UnsafeRawBufferPointer(rebasing: all[sent...])
                    return send(fd, rest.baseAddress, rest.count, Int32(MSG_NOSIGNAL))
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FrameError.io(operation: "write", errno: errno)
                }
                sent += n
            }
        }
    }

    /// Ends both directions: a reader blocked in `readFrame` sees the end of stream.
    public func shutdownBoth() {
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }
}
