import Foundation
import TestKit
import Testing
import WorkerProtocol

/// Hostile pages: what JavaScript in the tenant's browser can reach of the
/// host. Only loopback is ever contacted.
@Suite(.serialized) struct BrowserIsolationTests {
    typealias Tools = BrowserToolTests

    /// A file of the host that no page may read.
    static func hostSecret() throws -> (path: String, text: String) {
        let text = "host-secret-" + UUID().uuidString
        let path = "/tmp/warden-browser-secret-" + UUID().uuidString
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, text)
    }

    @Test func pagesCannotReadHostFiles() throws {
        let harness = try WorkerHarness.start(browser: WorkerHarness.browser())
        defer { harness.stop() }
        let secret = try Self.hostSecret()
        defer { try? FileManager.default.removeItem(atPath: secret.path) }

        // The API refuses file: outright.
        let refused = try Tools.failure(harness, 1, .browserContent, BrowserArgs(url: "file://\(secret.path)"))
        #expect(refused.code == .invalidRequest)

        // Script in a page tries fetch, XHR, an iframe and a navigation of its own.
        let probe = """
            async () => {
              const out = {};
              try { out.fetch = await (await fetch("file://\(secret.path)")).text(); } catch (e) { out.fetch = "refused: " + e.message; }
              try { const x = new XMLHttpRequest(); x.open("GET", "file:///etc/passwd", false); x.send(); out.xhr = x.responseText; }
              catch (e) { out.xhr = "refused: " + e.message; }
              const frame = document.createElement("iframe");
              frame.src = "file://\(secret.path)";
              document.body.appendChild(frame);
              await new Promise((r) => setTimeout(r, 300));
              try { out.frame = frame.contentDocument ? frame.contentDocument.body.innerText : "opaque"; } catch (e) { out.frame = "refused: " + e.message; }
              return out;
            }
            """
        let result = try Tools.json(Tools.call(harness, 2, .browserEvaluate, BrowserArgs(html: "<p>probe</p>", function: probe)).body)
        let found = try #require(result["result"] as? [String: String])
        for (way, text) in found {
            #expect(!text.contains(secret.text), "\(way) read the host's file")
            #expect(!text.contains("root:x:0:0"), "\(way) read a passwd file: \(text)")
        }
        let moved = try Tools.json(Tools.call(harness, 3, .browserContent,
                                              BrowserArgs(html: "<p>stay</p><script>location.href = 'file://\(secret.path)'</script>")).body)
        #expect(!(moved["html"] as? String ?? "").contains(secret.text))
        #expect(!(moved["url"] as? String ?? "").hasPrefix("file:"))
    }

    /// The browser's jail has a network namespace of its own: the host's
    /// loopback (and so everything else) is out of reach.
    @Test func pagesCannotReachTheHostNetwork() throws {
        let harness = try WorkerHarness.start(browser: WorkerHarness.browser())
        defer { harness.stop() }
        let listener = try LoopbackListener()
        defer { listener.close() }
        let probe = """
            async () => {
              const out = {};
              try { const r = await fetch("http://127.0.0.1:\(listener.port)/"); out.fetch = "status " + r.status; }
              catch (e) { out.fetch = "refused: " + e.message; }
              out.socket = await new Promise((resolve) => {
                const ws = new WebSocket("ws://127.0.0.1:\(listener.port)/");
                ws.onopen = () => resolve("open"); ws.onerror = () => resolve("refused");
              });
              return out;
            }
            """
        let result = try Tools.json(Tools.call(harness, 1, .browserEvaluate, BrowserArgs(html: "<p>probe</p>", function: probe)).body)
        let found = try #require(result["result"] as? [String: String])
        #expect(found["fetch"]?.hasPrefix("refused") == true, "\(found)")
        #expect(found["socket"] == "refused", "\(found)")
        #expect(listener.accepted == 0, "the host's loopback listener was reached")
        let navigation = try Tools.failure(harness, 2, .browserContent, BrowserArgs(url: "http://127.0.0.1:\(listener.port)/"))
        #expect(navigation.code == .navigationFailed && navigation.message.contains("net::ERR_"), "\(navigation)")
        #expect(listener.accepted == 0)
    }

    /// From the host: every Chromium process runs as the tenant's unprivileged
    /// id, without capabilities, with no_new_privs and a seccomp filter.
    @Test func theBrowserRunsUnprivilegedUnderSeccomp() throws {
        let harness = try WorkerHarness.start(browser: WorkerHarness.browser())
        defer { harness.stop() }
        _ = try Tools.call(harness, 1, .browserScreenshot, BrowserArgs(html: "<p>who am I</p>"))
        let processes = Tools.browserProcesses(harness)
        #expect(processes.count >= 2)
        for pid in processes {
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            func field(_ name: String) -> String {
                status.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) } ?? ""
            }
            let uids = field("Uid").split(whereSeparator: { $0 == "\t" || $0 == " " })
            #expect(uids.allSatisfy { $0 == "\(WorkerHarness.payloadHostID)" }, "pid \(pid) runs as \(uids)")
            #expect(field("CapEff") == "0000000000000000" && field("CapPrm") == "0000000000000000")
            #expect(field("NoNewPrivs") == "1")
            #expect(field("Seccomp") == "2")
        }
    }
}

/// A TCP listener on the host's 127.0.0.1 that counts who connects.
final class LoopbackListener: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard fd >= 0, bound else { throw HarnessError("cannot listen on 127.0.0.1: errno \(errno)") }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Connections waiting or taken so far (they are accepted and closed).
    var accepted: Int {
        var count = 0
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { break }
            Glibc.close(client)
            count += 1
        }
        return count
    }

    func close() { Glibc.close(fd) }
}
