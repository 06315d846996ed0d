/// The protocol this library speaks.
public enum ProtocolVersion {
    public static let current = 1
}

/// HELLO from the supervisor, the first frame of a connection (call id 0).
public struct Hello: Sendable, Codable, Equatable {
    public var `protocol`: Int
    public var tenant: String
    /// How many calls may run at once; more are answered `busy`.
    public var maxCalls: Int
    /// The OCI seccomp profile of tool jails (policies/seccomp/exec.json).
    public var execProfile: JSONValue
    /// The tenant workspace as the worker sees it.
    public var workspace: String
    /// How the workspace is held, which says how `workspace.usage` measures it.
    public var storage: WorkspaceStorage?
    /// The tenant's browser; absent when the host has none.
    public var browser: BrowserSettings?

    public init(protocol: Int = ProtocolVersion.current, tenant: String, maxCalls: Int = 16,
                execProfile: JSONValue, workspace: String = "/workspace", storage: WorkspaceStorage? = nil,
                browser: BrowserSettings? = nil) {
        self.protocol = `protocol`
        self.tenant = tenant
        self.maxCalls = maxCalls
        self.execProfile = execProfile
        self.workspace = workspace
        self.storage = storage
        self.browser = browser
    }

    enum CodingKeys: String, CodingKey {
        case `protocol`, tenant, workspace, storage, browser
        case maxCalls = "max_calls"
        case execProfile = "exec_profile"
    }
}

/// Only the version of a HELLO, read first so that a HELLO of another
/// version is answered `protocol_version` whatever else it holds.
public struct HelloVersion: Sendable, Codable {
    public var `protocol`: Int
}

/// The worker's answer to HELLO.
public struct HelloReply: Sendable, Codable, Equatable {
    public var `protocol`: Int
    /// The worker's pid in its own pid namespace.
    public var pid: Int32
    public var version: String

    public init(protocol: Int = ProtocolVersion.current, pid: Int32, version: String) {
        self.protocol = `protocol`
        self.pid = pid
        self.version = version
    }
}

/// SHUTDOWN's payload: how long running calls may go on before they are cancelled.
public struct Shutdown: Sendable, Codable, Equatable {
    public var graceMs: Int

    public init(graceMs: Int = 5000) { self.graceMs = graceMs }

    enum CodingKeys: String, CodingKey { case graceMs = "grace_ms" }
}
