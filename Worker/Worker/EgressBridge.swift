#if canImport(Glibc)
import Glibc
#endif
import Sandbox
import Synchronization
import WorkerProtocol

/// How a jail that needs the network reaches the supervisor's egress proxy.
/// The jail gets a network namespace of its own with only loopback; its init
/// makes a socket listening on 127.0.0.1:3128 there and hands it out; the
/// worker passes it on to the supervisor (over its egress channel, tagged),
/// which serves the proxy on it for this tenant. Nothing else leaves the jail.
///
///     let lease = try bridge.prepare(&config, tag: EgressTag.call(id))
///     defer { lease.release() }
///     jail.run(config, onStarted: { try? lease.handOver() })
final class EgressBridge: Sendable {
    static let proxyPort: UInt16 = 3128
    static let proxyURL = "http://127.0.0.1:\(proxyPort)"
    /// Points HTTP clients (curl, pip, requests, urllib, node's fetch with a
    /// proxy agent) at the proxy; nothing bypasses it.
    static let proxyEnvironment = [
        "HTTP_PROXY": proxyURL, "HTTPS_PROXY": proxyURL, "http_proxy": proxyURL, "https_proxy": proxyURL,
        "NO_PROXY": "", "no_proxy": "",
    ]
    /// The supervisor's end of the egress channel, as the worker receives it.
    static let channelDescriptor: Int32 = 4

    fileprivate let channel: Int32

    init(channel: Int32) {
        self.channel = channel
    }

    /// The bridge over fd 4, or nil when the worker was started without an
    /// egress channel (then no call may have the network).
    static func fromSupervisor() -> EgressBridge? {
        var type: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(channelDescriptor, SOL_SOCKET, SO_TYPE, &type, &length) == 0,
              type == Int32(SOCK_SEQPACKET.rawValue) else { return nil }
        return EgressBridge(channel: channelDescriptor)
    }

    /// Gives `config` a loopback-only network namespace of its own and asks
    /// its init for the listener on 127.0.0.1:`proxyPort`. Release the lease
    /// when the jail has ended, whether or not it started.
    func prepare(_ config: inout JailConfig, tag: String) throws(ErrorReply) -> EgressLease {
        guard !tag.isEmpty, tag.utf8.count <= EgressMessage.maxTagBytes else {
            throw ErrorReply(.internal, "egress tag \"\(tag)\" is empty or longer than \(EgressMessage.maxTagBytes) bytes")
        }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw ErrorReply(.internal, "the call's network could not be prepared: socketpair failed (errno \(errno))")
        }
        config.network = .isolated
        config.loopbackListener = LoopbackListener(port: Self.proxyPort, channel: pair[1])
        return EgressLease(tag: tag, channel: channel, receiving: pair[0], jailEnd: pair[1])
    }
}

extension EgressBridge {
    /// Hands over a listener the worker made itself, on the loopback of a
    /// namespace it keeps (the browser's, one listener per page), to be served
    /// for the session the supervisor opened under `tag`. Ours is closed either way.
    func lend(listener: Int32, tag: String) throws(ErrorReply) {
        defer { close(listener) }
        do {
            try DescriptorPassing.send(EgressMessage.listener(tag: tag).bytes, fd: listener, over: channel)
        } catch {
            throw ErrorReply(.internal, "the supervisor's egress channel did not take the listener: \(error)")
        }
    }

    /// The listener lent under `tag` is done with: the supervisor closes it.
    func release(tag: String) {
        try? DescriptorPassing.send(EgressMessage.release(tag: tag).bytes, fd: nil, over: channel)
    }
}

/// One jail's way to the proxy, from its start to its end.
final class EgressLease: Sendable {
    let tag: String
    private let channel: Int32
    private struct Descriptors {
        var receiving: Int32
        var jailEnd: Int32
        var released = false
    }
    private let descriptors: Mutex<Descriptors>

    fileprivate init(tag: String, channel: Int32, receiving: Int32, jailEnd: Int32) {
        self.tag = tag
        self.channel = channel
        descriptors = Mutex(Descriptors(receiving: receiving, jailEnd: jailEnd))
    }

    /// Once the jail has started (`Jail.run`'s `onStarted`): takes the
    /// listener its init sent and passes it to the supervisor, keeping no copy.
    func handOver() throws(ErrorReply) {
        let receiving = descriptors.withLock { d -> Int32 in
            // The jail has its copy of its end; ours must go so a dead jail reads as an end.
            if d.jailEnd >= 0 { close(d.jailEnd); d.jailEnd = -1 }
            return d.receiving
        }
        guard receiving >= 0 else { throw ErrorReply(.internal, "the egress lease \(tag) was already released") }
        let received: (message: [UInt8], fd: Int32?)?
        do {
            received = try DescriptorPassing.receive(from: receiving, wait: false)
        } catch {
            throw ErrorReply(.internal, "the jail's loopback listener could not be received: \(error)")
        }
        guard let listener = received?.fd else {
            throw ErrorReply(.internal, "the jail started without handing over its loopback listener")
        }
        defer { close(listener) }
        do {
            try DescriptorPassing.send(EgressMessage.listener(tag: tag).bytes, fd: listener, over: channel)
        } catch {
            throw ErrorReply(.internal, "the supervisor's egress channel did not take the listener: \(error)")
        }
    }

    /// The jail has ended: the supervisor stops serving its listener. Idempotent.
    func release() {
        let wasOpen = descriptors.withLock { d -> Bool in
            guard !d.released else { return false }
            d.released = true
            for fd in [d.receiving, d.jailEnd] where fd >= 0 { close(fd) }
            d.receiving = -1
            d.jailEnd = -1
            return true
        }
        if wasOpen { try? DescriptorPassing.send(EgressMessage.release(tag: tag).bytes, fd: nil, over: channel) }
    }

    deinit { release() }
}
