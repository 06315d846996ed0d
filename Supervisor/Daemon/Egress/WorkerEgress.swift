import Foundation
import Logging
import Sandbox
import Synchronization
import WorkerProtocol
#if canImport(Glibc)
import Glibc
#endif

/// One worker's egress channel (the supervisor's end of its fd 4): the
/// listeners its jails hand over, each served by the proxy for the session
/// the supervisor opened under the same tag before the call went out. A
/// listener under a tag nobody opened is closed: every byte through the
/// proxy belongs to a session that is settled.
final class WorkerEgress: Sendable {
    private let fd: Int32
    private let proxy: EgressProxy?
    private let tenantID: String
    private let logger: Logger
    private let sessions = Mutex<[String: EgressSession]>([:])

    init(fd: Int32, proxy: EgressProxy?, tenantID: String, logger: Logger) {
        self.fd = fd
        self.proxy = proxy
        self.tenantID = tenantID
        self.logger = logger
    }

    /// Opens `tag` for `session`: its listener, when it comes, is served for it.
    func expect(_ tag: String, _ session: EgressSession) {
        sessions.withLock { $0[tag] = session }
    }

    /// Ends the session of `tag`: listener and connections closed, bytes final.
    func finish(_ tag: String) async {
        let session = sessions.withLock { $0.removeValue(forKey: tag) }
        await session?.close()
    }

    /// Reads the channel on a thread of its own until the worker's end closes, then closes ours.
    func startReading() {
        let thread = Thread { [self] in
            while true {
                let received: (message: [UInt8], fd: Int32?)?
                do {
                    received = try DescriptorPassing.receive(from: fd)
                } catch {
                    logger.error("the worker's egress channel failed", metadata: ["tenant_id": "\(tenantID)", "error": "\(error)"])
                    break
                }
                guard let received else { break }
                handle(received.message, listener: received.fd)
            }
            close(fd)
        }
        thread.name = "worker-egress"
        thread.start()
    }

    private func handle(_ bytes: [UInt8], listener: Int32?) {
        let message = EgressMessage(bytes: bytes)
        switch message {
        case .listener(let tag):
            guard let listener else {
                return logger.warning("the worker announced a listener without one", metadata: ["tenant_id": "\(tenantID)", "tag": "\(tag)"])
            }
            guard let proxy, let session = sessions.withLock({ $0[tag] }) else {
                close(listener)
                return logger.warning("a jail's listener under a tag no call opened was closed",
                                      metadata: ["tenant_id": "\(tenantID)", "tag": "\(tag)"])
            }
            let logger = self.logger, tenantID = self.tenantID
            Task {
                do {
                    try await proxy.serve(listener: listener, for: session)
                } catch {
                    // Not closed here: NIO owns the descriptor once it has taken it.
                    logger.error("a jail's listener could not be served", metadata: ["tenant_id": "\(tenantID)", "tag": "\(tag)", "error": "\(error)"])
                }
            }
        case .release(let tag):
            if let listener { close(listener) }
            sessions.withLock { $0[tag] }?.closeListeners()
        case nil:
            if let listener { close(listener) }
            logger.warning("an unreadable message on the worker's egress channel", metadata: ["tenant_id": "\(tenantID)"])
        }
    }
}
