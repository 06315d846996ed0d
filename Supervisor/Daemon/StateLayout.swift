import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where things live under `--state-dir`.
public struct StateLayout: Sendable, Equatable {
    public let root: String

    public init(root: String) {
        // Absolute, so the socket path and logs do not depend on the cwd of later calls.
        self.root = URL(fileURLWithPath: root).standardizedFileURL.path
    }

    public var database: String { root + "/warden.db" }
    public var adminSocket: String { root + "/admin.sock" }
    public var lockFile: String { root + "/warden.lock" }
    public var tenantsDirectory: String { root + "/tenants" }
    public func tenantDirectory(_ tenantID: String) -> String { tenantsDirectory + "/" + tenantID }
    public func workspace(_ tenantID: String) -> String { tenantDirectory(tenantID) + "/workspace" }
    /// Root mode: the workspace as a filesystem image whose size is the storage limit.
    public func workspaceImage(_ tenantID: String) -> String { tenantDirectory(tenantID) + "/workspace.img" }

    /// The kernel's limit on a Unix socket path (sun_path, with its NUL).
    static let maxSocketPathBytes = 107

    /// Creates the directories. 0711 lets jailed tenants traverse to their own
    /// workspace without listing anyone else's; the database is 0600.
    public func prepare() throws {
        for directory in [root, tenantsDirectory] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try setMode(0o711, directory)
        }
        guard adminSocket.utf8.count <= Self.maxSocketPathBytes else {
            throw ConfigurationError(
                "the state directory path is too long for its admin socket (\(adminSocket.utf8.count) bytes, "
                    + "the limit is \(Self.maxSocketPathBytes)); choose a shorter --state-dir")
        }
        // SQLite gives its -wal and -shm files the database file's mode.
        if !FileManager.default.fileExists(atPath: database) {
            let descriptor = open(database, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw POSIXFailure("cannot create \(database)") }
            close(descriptor)
        }
        try setMode(0o600, database)
    }
}

func setMode(_ mode: mode_t, _ path: String) throws {
    guard chmod(path, mode) == 0 else { throw POSIXFailure("cannot chmod \(path)") }
}

/// A failed system call, with errno's text.
struct POSIXFailure: Error, CustomStringConvertible {
    var description: String
    init(_ what: String, errno code: Int32 = errno) {
        description = "\(what): \(String(cString: strerror(code)))"
    }
}
