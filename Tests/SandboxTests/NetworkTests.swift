import Foundation
import Synchronization
import Sandbox
import Testing

/// Jails have only loopback: the host's loopback listeners are out of reach.
@Suite struct NetworkTests {
    @Test func hostLoopbackListenerIsUnreachable() throws {
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(server) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(server, $0, len) } }
        listen(server, 4)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(server, $0, &len) } }
        let port = UInt16(bigEndian: addr.sin_port)

        let o = Fixtures.python("""
        import socket
        s = socket.socket(); s.settimeout(2)
        try:
            s.connect(('127.0.0.1', \(port))); print('connected')
        except OSError as e:
            print('refused', e.errno)
        """)
        #expect(o.out.hasPrefix("refused"), "\(o.out) \(o.err)")
    }

    @Test func onlyLoopbackExists() {
        let o = Fixtures.sh("cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '")
        #expect(o.out == "lo\n", "\(o.out)")
    }

    @Test func preMadeNamespaceIsSharedByJoiningJails() throws {
        guard Fixtures.isRoot else { return }
        let ns = try NetworkNamespace()
        var server = Fixtures.config(["/usr/bin/python3", "-c", """
        import socket, time
        s = socket.socket(); s.bind(('127.0.0.1', 47321)); s.listen(1)
        c, _ = s.accept(); print(c.recv(10).decode())
        """])
        server.network = .join(path: ns.path)
        var client = Fixtures.config(["/usr/bin/python3", "-c", """
        import socket, time
        for _ in range(400):
            try:
                s = socket.create_connection(('127.0.0.1', 47321)); s.send(b'hi'); break
            except OSError: time.sleep(0.05)
        """])
        client.network = .join(path: ns.path)
        // Jail.run blocks its thread: the server gets a thread of its own.
        let serverConfig = server
        let served = Mutex<JailOutcome?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let outcome = Fixtures.jail.run(serverConfig)
            served.withLock { $0 = outcome }
            done.signal()
        }
        let sent = Fixtures.jail.run(client)
        done.wait()
        let got = served.withLock { $0 }
        #expect(sent.result.status == .ok)
        #expect(got?.out == "hi\n", "\(got?.out ?? "") \(got?.err ?? "")")
        withExtendedLifetime(ns) {}
    }
    /// The jail's init hands a listener on the jail's own 127.0.0.1 to the
    /// caller, who serves it from outside: the payload's connection reaches
    /// the caller, the host's loopback knows no such port, and the jail holds
    /// no copy of the listener.
    @Test func loopbackListenerIsServedFromOutside() throws {
        var pair: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0)
        defer { close(pair[0]); close(pair[1]) }
        var c = Fixtures.config(["/usr/bin/python3", "-c", """
        import os, socket
        s = socket.create_connection(('127.0.0.1', 3128), timeout=10)
        print(s.recv(100).decode())
        # Only init and this process are in the jail; neither holds a listening socket.
        inodes = {l.split()[9] for l in open('/proc/net/tcp').read().splitlines()[1:] if l.split()[3] == '0A'}
        mine = set()
        for f in os.listdir('/proc/self/fd'):
            try: mine.add(os.readlink('/proc/self/fd/' + f))
            except OSError: pass  # the listing's own descriptor
        print('listening', len(inodes), 'held', len([i for i in inodes if 'socket:[' + i + ']' in mine]))
        """])
        c.loopbackListener = LoopbackListener(port: 3128, channel: pair[1])
        let listener = Mutex<Int32?>(nil)
        let outcome = Fixtures.jail.run(c, onStarted: {
            guard let (_, fd) = try? DescriptorPassing.receive(from: pair[0], wait: false), let fd else { return }
            listener.withLock { $0 = fd }
            Thread.detachNewThread {
                let client = accept(fd, nil, nil)
                let hello = Array("served from outside".utf8)
                _ = send(client, hello, hello.count, 0)
                close(client)
            }
        })
        let served = try #require(listener.withLock { $0 }, "no listener arrived: \(outcome.result)")
        close(served)
        #expect(outcome.result.status == .ok, "\(outcome.result) \(outcome.err)")
        #expect(outcome.out == "served from outside\nlistening 1 held 0\n", "\(outcome.out) \(outcome.err)")
    }

    @Test func loopbackListenerNeedsItsOwnNetwork() {
        var c = Fixtures.config(["/bin/true"])
        c.network = .inherit
        c.loopbackListener = LoopbackListener(port: 3128, channel: 0)
        let outcome = Fixtures.jail.run(c)
        #expect(outcome.result.status == .setupError)
        #expect(outcome.result.message?.contains("network namespace of its own") == true, "\(outcome.result)")
    }
}
