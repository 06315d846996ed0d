import Foundation
import Supervisor
import Testing

/// `/v1/files` over real HTTP with real workers: each tenant sees its own
/// workspace only, and no path leaves it.
@Suite("Files: isolation and path attacks")
struct FilesIsolationTests {
    @Test func twoTenantsCannotReadEachOthersFiles() async throws {
        try await withLiveDaemon { daemon in
            let (alice, aliceKey) = try await daemon.tenantWithKey("alice")
            let (_, bobKey) = try await daemon.tenantWithKey("bob")

            let secret = "alice-secret-\(UUID().uuidString)"
            let written = try await daemon.files("PUT", "/v1/files/private/secret.txt", token: aliceKey, body: Data(secret.utf8))
            #expect(written.status == 201, "\(String(decoding: written.body, as: UTF8.self))")
            let own = try await daemon.files("GET", "/v1/files/private/secret.txt", token: aliceKey)
            #expect(own.status == 200)
            #expect(String(decoding: own.body, as: UTF8.self) == secret)

            // Through the files API: bob's workspace has no such file, and his list is empty.
            let read = try await daemon.files("GET", "/v1/files/private/secret.txt", token: bobKey)
            #expect(read.status == 404, "bob read alice's path: \(read.status)")
            #expect(!String(decoding: read.body, as: UTF8.self).contains(secret))
            let listed = try await daemon.files("GET", "/v1/files", token: bobKey)
            #expect(listed.status == 200)
            #expect((listed.json?["entries"] as? [Any])?.isEmpty == true, "\(String(decoding: listed.body, as: UTF8.self))")
            let deleted = try await daemon.files("DELETE", "/v1/files/private/secret.txt", token: bobKey)
            #expect(deleted.status == 404)
            let aliceList = try await daemon.files("GET", "/v1/files?prefix=private/", token: aliceKey)
            let paths = ((aliceList.json?["entries"] as? [[String: Any]]) ?? []).compactMap { $0["path"] as? String }
            #expect(paths.contains("private/secret.txt"), "\(paths)")

            // Through exec: the other workspace is not even visible, by any path.
            let hostWorkspace = StateLayout(root: daemon.stateDirectory).workspace(alice.id)
            let probe = """
                import os
                found = []
                for root in ['/workspace', '/', '/tmp', '/opt', '/var', '/home', '/root', '/srv', '/mnt']:
                    try:
                        for dirpath, dirs, files in os.walk(root):
                            if dirpath.startswith(('/proc', '/sys', '/dev')):
                                dirs[:] = []
                                continue
                            for f in files:
                                if f == 'secret.txt':
                                    found.append(os.path.join(dirpath, f))
                    except Exception:
                        pass
                print('found', sorted(set(found)))
                for path in ['\(hostWorkspace)/private/secret.txt', '\(daemon.stateDirectory)']:
                    print(path, os.path.exists(path))
                print('workspace', sorted(os.listdir('/workspace')))
                """
            // The walk covers the whole jail tree; under a loaded machine it takes
            // more than the default ten seconds.
            let answer = try await daemon.exec(bobKey, ["language": "python", "code": probe, "timeout_ms": 60_000, "cpu_ms": 60_000],
                                          timeout: .seconds(120))
            #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")
            let out = answer.json?["stdout"] as? String ?? ""
            #expect(out.contains("found []"), "\(String(decoding: answer.body, as: UTF8.self))")
            #expect(out.contains("secret.txt False"), "\(out)")
            #expect(out.contains("\(daemon.stateDirectory) False"), "\(out)")
            #expect(out.contains("workspace []"), "\(out)")
            #expect(!out.contains(secret))

            // Alice's own exec does see it, at /workspace.
            let mine = try await daemon.run(aliceKey, "bash", "cat /workspace/private/secret.txt")
            #expect(mine["stdout"] as? String == secret)
        }
    }

    /// Every spelling of a way out is refused before anything is read, and
    /// nothing of the host comes back.
    @Test func pathAttacksAreRefused() async throws {
        try await withLiveDaemon { daemon in
            let (_, token) = try await daemon.tenantWithKey("attacker")
            let hostPasswd = try String(contentsOfFile: "/etc/passwd", encoding: .utf8)
            // A file of the state directory beside the workspace.
            let put = try await daemon.files("PUT", "/v1/files/inside.txt", token: token, body: Data("inside".utf8))
            #expect(put.status == 201)

            let attacks = [
                "/v1/files/../../../../etc/passwd",
                "/v1/files/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
                "/v1/files/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                "/v1/files/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
                "/v1/files/a/../../etc/passwd",
                "/v1/files/%2Fetc%2Fpasswd",
                "/v1/files//etc/passwd",
                "/v1/files/inside.txt%00.png",
                "/v1/files/%00",
                "/v1/files/./inside.txt",
                "/v1/files/%2e/inside.txt",
            ]
            for attack in attacks {
                for method in ["GET", "PUT", "DELETE"] {
                    let response = try await daemon.files(method, attack, token: token,
                                                          body: method == "PUT" ? Data("pwned".utf8) : nil)
                    let body = String(decoding: response.body, as: UTF8.self)
                    #expect(response.status == 400, "\(method) \(attack) answered \(response.status): \(body)")
                    #expect(!body.contains("root:x:0:0"), "\(method) \(attack) leaked a passwd file")
                }
            }
            for prefix in ["../", "%2e%2e/", "/etc", "a/../..", "x%00"] {
                let response = try await daemon.files("GET", "/v1/files?prefix=\(prefix)", token: token)
                #expect(response.status == 400, "prefix \(prefix) answered \(response.status)")
            }

            // The workspace file is intact and nothing was written anywhere else.
            let inside = try await daemon.files("GET", "/v1/files/inside.txt", token: token)
            #expect(String(decoding: inside.body, as: UTF8.self) == "inside")
            #expect(!FileManager.default.fileExists(atPath: "/etc/pwned"))
            #expect(try String(contentsOfFile: "/etc/passwd", encoding: .utf8) == hostPasswd)
        }
    }

    @Test func symlinksMadeByExecNeverLeadOutOfTheWorkspace() async throws {
        try await withLiveDaemon { daemon in
            let (tenant, token) = try await daemon.tenantWithKey("linker")
            let hostPasswd = try String(contentsOfFile: "/etc/passwd", encoding: .utf8)
            let outsideDirectory = daemon.stateDirectory + "/outside"
            try FileManager.default.createDirectory(atPath: outsideDirectory, withIntermediateDirectories: true)
            try "host-only".write(toFile: outsideDirectory + "/host.txt", atomically: true, encoding: .utf8)

            let made = try await daemon.run(token, "bash", """
                cd /workspace
                ln -s /etc/passwd passwd-link
                ln -s / root-link
                ln -s ../../outside outside-link
                ln -s /etc etc-link
                mkdir -p sub && ln -s ../.. sub/up
                echo ok
                """)
            #expect(made["stdout"] as? String == "ok\n", "\(made)")

            for path in ["passwd-link", "root-link/etc/passwd", "etc-link/passwd", "outside-link/host.txt", "sub/up/outside/host.txt",
                         "sub/up/\(tenant.id)/workspace/passwd-link"] {
                let read = try await daemon.files("GET", "/v1/files/\(path)", token: token)
                let body = String(decoding: read.body, as: UTF8.self)
                #expect(read.status != 200, "GET \(path) was served: \(body.prefix(80))")
                #expect(!body.contains("root:x:0:0") && !body.contains("host-only"), "GET \(path) leaked a host file")
                #expect(body != hostPasswd)

                let write = try await daemon.files("PUT", "/v1/files/\(path)", token: token, body: Data("pwned".utf8))
                #expect(write.status != 201, "PUT \(path) was written")
            }
            // Writing through a directory link must not create files outside.
            let through = try await daemon.files("PUT", "/v1/files/outside-link/new.txt", token: token, body: Data("pwned".utf8))
            #expect(through.status != 201)
            #expect(!FileManager.default.fileExists(atPath: outsideDirectory + "/new.txt"))
            #expect(try String(contentsOfFile: outsideDirectory + "/host.txt", encoding: .utf8) == "host-only")
            #expect(try String(contentsOfFile: "/etc/passwd", encoding: .utf8) == hostPasswd)

            // Deleting a link removes the link, never its target.
            let removed = try await daemon.files("DELETE", "/v1/files/outside-link", token: token)
            #expect(removed.status == 200 || removed.status == 400, "\(removed.status)")
            #expect(FileManager.default.fileExists(atPath: outsideDirectory + "/host.txt"))

            // The listing shows links as links.
            let listed = try await daemon.files("GET", "/v1/files", token: token)
            let entries = (listed.json?["entries"] as? [[String: Any]]) ?? []
            let link = entries.first { $0["path"] as? String == "passwd-link" }
            #expect(link?["type"] as? String == "symlink", "\(entries)")
        }
    }

    @Test func aTenantsFilesRoundTripThroughExecAndTheAPI() async throws {
        try await withLiveDaemon { daemon in
            let (_, token) = try await daemon.tenantWithKey("roundtrip")
            let bytes = Data((0..<256).map { UInt8($0) })
            let put = try await daemon.files("PUT", "/v1/files/data/bytes.bin", token: token, body: bytes)
            #expect(put.status == 201)
            #expect(put.json?["size"] as? Int == 256)
            let result = try await daemon.run(token, "python",
                                              "d = open('/workspace/data/bytes.bin','rb').read()\nprint(len(d), d == bytes(range(256)))\n"
                                              + "open('/workspace/data/out.txt','w').write('from exec')")
            #expect(result["stdout"] as? String == "256 True\n")
            let out = try await daemon.files("GET", "/v1/files/data/out.txt", token: token)
            #expect(out.status == 200)
            #expect(String(decoding: out.body, as: UTF8.self) == "from exec")
            let back = try await daemon.files("GET", "/v1/files/data/bytes.bin", token: token)
            #expect(back.body == bytes)

            // Larger than one protocol frame, both ways.
            var large = Data(count: 5 << 20)
            for index in stride(from: 0, to: large.count, by: 4096) { large[index] = UInt8(truncatingIfNeeded: index / 4096) }
            let bigPut = try await daemon.files("PUT", "/v1/files/data/large.bin", token: token, body: large)
            #expect(bigPut.status == 201, "\(String(decoding: bigPut.body.prefix(300), as: UTF8.self))")
            let bigGet = try await daemon.files("GET", "/v1/files/data/large.bin", token: token)
            #expect(bigGet.status == 200)
            #expect(bigGet.body.count == large.count)
            #expect(bigGet.body == large)
        }
    }
}
