#if canImport(Glibc)
import Glibc
#endif

/// A descriptor sent over a Unix socket (SCM_RIGHTS) with a short message:
/// how a jail's loopback listener reaches its caller, and the caller's
/// supervisor after it.
public enum DescriptorPassing {
    /// Sends `message` (at least one byte) with `fd` attached, or with no
    /// descriptor when `fd` is nil. The descriptor stays the caller's.
    public static func send(_ message: [UInt8], fd: Int32?, over socket: Int32) throws(SandboxError) {
        precondition(!message.isEmpty, "a message that carries a descriptor needs at least one byte")
        var data = message
        var control = [UInt8](repeating: 0, count: fd == nil ? 0 : cmsgSpace(MemoryLayout<Int32>.size))
        let sent = withHeader(&data, &control) { msg, controlBase -> Int in
            if let fd, let controlBase {
                let header = controlBase.assumingMemoryBound(to: cmsghdr.self)
                header.pointee.cmsg_level = SOL_SOCKET
                header.pointee.cmsg_type = Int32(SCM_RIGHTS)
                header.pointee.cmsg_len = cmsgLength(MemoryLayout<Int32>.size)
                (controlBase + cmsgLength(0)).storeBytes(of: fd, as: Int32.self)
            }
            var n: Int
            repeat { n = sendmsg(socket, &msg, Int32(MSG_NOSIGNAL)) } while n < 0 && errno == EINTR
            return n
        }
        if sent < 0 { throw SandboxError.system("send a descriptor", errno: errno) }
        if sent != message.count { throw SandboxError.invalidConfig("a descriptor's message went out in part") }
    }

    /// One message and the descriptor that came with it (close-on-exec), or
    /// nil at the end of the stream. With `wait: false`, nil also when
    /// nothing is waiting.
    public static func receive(from socket: Int32, maxMessage: Int = 512,
                               wait: Bool = true) throws(SandboxError) -> (message: [UInt8], fd: Int32?)? {
        var data = [UInt8](repeating: 0, count: maxMessage)
        var control = [UInt8](repeating: 0, count: cmsgSpace(MemoryLayout<Int32>.size))
        var received: Int32?
        let flags = Int32(MSG_CMSG_CLOEXEC) | (wait ? 0 : Int32(MSG_DONTWAIT))
        let n = withHeader(&data, &control) { msg, controlBase -> Int in
            var n: Int
            repeat { n = recvmsg(socket, &msg, flags) } while n < 0 && errno == EINTR
            if n >= 0, msg.msg_controllen >= cmsgLength(MemoryLayout<Int32>.size), let controlBase {
                let header = controlBase.assumingMemoryBound(to: cmsghdr.self)
                if header.pointee.cmsg_level == SOL_SOCKET, header.pointee.cmsg_type == Int32(SCM_RIGHTS) {
                    received = (controlBase + cmsgLength(0)).load(as: Int32.self)
                }
            }
            return n
        }
        if n < 0 {
            if !wait && (errno == EAGAIN || errno == EWOULDBLOCK) { return nil }
            throw SandboxError.system("receive a descriptor", errno: errno)
        }
        if n == 0 && received == nil { return nil }
        return (Array(data[0..<n]), received)
    }

    /// A message header over `data` (one iovec) and `control` (none when empty).
    private static func withHeader(_ data: inout [UInt8], _ control: inout [UInt8],
                                   _ body: (inout msghdr, UnsafeMutableRawPointer?) -> Int) -> Int {
        data.withUnsafeMutableBytes { bytes in
            control.withUnsafeMutableBytes { controlBytes in
                var iov = iovec(iov_base: bytes.baseAddress, iov_len: bytes.count)
                return withUnsafeMutablePointer(to: &iov) { iovPointer in
                    var msg = msghdr()
                    msg.msg_iov = iovPointer
                    msg.msg_iovlen = 1
                    if controlBytes.count > 0 {
                        msg.msg_control = controlBytes.baseAddress
                        msg.msg_controllen = controlBytes.count
                    }
                    return body(&msg, controlBytes.count > 0 ? controlBytes.baseAddress : nil)
                }
            }
        }
    }

    // CMSG_LEN and CMSG_SPACE, which do not import into Swift.
    private static func cmsgAlign(_ n: Int) -> Int { (n + MemoryLayout<Int>.size - 1) & ~(MemoryLayout<Int>.size - 1) }
    private static func cmsgLength(_ n: Int) -> Int { cmsgAlign(MemoryLayout<cmsghdr>.size) + n }
    private static func cmsgSpace(_ n: Int) -> Int { cmsgAlign(MemoryLayout<cmsghdr>.size) + cmsgAlign(n) }
}
