import Foundation
import Supervisor
import Testing

@Suite("Admin socket security")
struct AdminSocketSecurityTests {
    @Test func theSocketIsMode0600() async throws {
        try await withDaemon { daemon in
            let socket = StateLayout(root: daemon.stateDirectory).adminSocket
            let attributes = try FileManager.default.attributesOfItem(atPath: socket)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            #expect(attributes[.type] as? FileAttributeType == .typeSocket)
        }
    }

    @Test func onlyRootAndTheDaemonsOwnUIDPass() {
        let policy = AdminPeerPolicy(daemonUID: 1000)
        #expect(policy.allows(PeerCredentials(pid: 1, uid: 0, gid: 0)))
        #expect(policy.allows(PeerCredentials(pid: 1, uid: 1000, gid: 1000)))
        #expect(!policy.allows(PeerCredentials(pid: 1, uid: 1001, gid: 1000)))
        #expect(!policy.allows(PeerCredentials(pid: 1, uid: 65534, gid: 65534)))
    }

    @Test func peerCredentialsAreReadFromTheSocket() async throws {
        try await withDaemon { daemon in
            _ = try await daemon.admin.status()
            let peerUIDs = daemon.logs.entries.filter { $0.message == "admin call" }.compactMap { $0.metadata["peer_uid"]?.description }
            #expect(peerUIDs.contains(String(geteuid())))
        }
    }

    /// Another user is stopped by the socket's mode, and, should the mode be
    /// loosened, by the SO_PEERCRED check. Needs root to act as `nobody`.
    @Test(.enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
                       && FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")))
    func anotherUserIsRefusedByModeAndByPeerCheck() async throws {
        try await withDaemon { daemon in
            let socket = StateLayout(root: daemon.stateDirectory).adminSocket
            // The state dir is 0711; the temp dir above it must be traversable too.
            chmod(daemon.stateDirectory, 0o711)
            let arguments = ["--reuid=65534", "--regid=65534", "--clear-groups",
                             "/usr/bin/curl", "-s", "-o", "-", "-w", "\n%{http_code}",
                             "--unix-socket", socket, "http://localhost/v1/tenants"]

            let byMode = try await runOffPool("/usr/bin/setpriv", arguments)
            #expect(byMode.status == 7, "curl should fail to connect: \(byMode.output)")

            chmod(socket, 0o666)
            let byPeer = try await runOffPool("/usr/bin/setpriv", arguments)
            #expect(byPeer.status == 0)
            #expect(byPeer.output.hasSuffix("\n403"), "got \(byPeer.output)")
            #expect(byPeer.output.contains("peer_not_allowed"))
            #expect(daemon.logs.entries.contains { $0.message == "admin call refused" && $0.metadata["peer_uid"] == "65534" })
        }
    }
}

func runProcess(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
