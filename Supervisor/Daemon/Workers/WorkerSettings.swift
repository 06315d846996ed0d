import Foundation
import Sandbox
import WorkerProtocol

/// What every worker is started with, resolved once from the configuration.
struct WorkerSettings: Sendable {
    /// The `warden-worker` binary on the host (bound read-only into each tenant jail).
    var binary: String
    /// The tenant jail's seccomp filter (the `worker` profile).
    var workerProfile: SeccompProgram
    /// The tool jails' profile (`exec`), sent to the worker in HELLO.
    var execProfile: JSONValue
    var maxCallsPerWorker: Int
    var tenantMemoryBytes: Int
    var tenantPids: Int
    /// CPU bandwidth of the tenant's jail in cores; nil = unlimited.
    var tenantCpus: Double? = nil
    var idleSeconds: Double
    var rootMode: Bool
    /// Tags this daemon's tenant cgroups (see `TenantCgroup.scope`).
    var cgroupScope: String
    /// The tenants' browser as HELLO describes it (its memory set per tenant); nil: none.
    var browser: BrowserSettings? = nil

    static let binaryInJail = "/opt/warden/warden-worker"

    /// The worker binary sits beside `warden` in a build or an install.
    static func defaultBinary() -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return (exe as NSString).deletingLastPathComponent + "/warden-worker"
    }

    static func load(configuration: SupervisorConfiguration) throws -> WorkerSettings {
        let binary = configuration.workerBinary ?? defaultBinary()
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ConfigurationError("the worker binary \(binary) is missing; build it (swift build --product warden-worker) or set workers.binary")
        }
        let workerProfile: SeccompProgram
        let execProfile: JSONValue
        do {
            workerProfile = try SeccompCompiler.compile(SeccompProfile.load("worker"))
            execProfile = try profileJSON("exec")
        } catch {
            throw ConfigurationError("cannot load the seccomp profiles for workers: \(error)")
        }
        return WorkerSettings(binary: binary, workerProfile: workerProfile, execProfile: execProfile,
                              maxCallsPerWorker: configuration.workerMaxCalls,
                              tenantMemoryBytes: configuration.workerMemoryMB << 20,
                              tenantPids: configuration.workerPids,
                              idleSeconds: configuration.workerIdleSeconds,
                              rootMode: geteuid() == 0,
                              cgroupScope: TenantCgroup.scope(stateDirectory: configuration.stateDirectory),
                              browser: try browser(configuration))
    }

    /// A seccomp profile of policies/seccomp as JSON, to send in HELLO.
    private static func profileJSON(_ name: String) throws -> JSONValue {
        let path = (ProfileLocator.policiesDirectory() ?? "policies") + "/seccomp/\(name).json"
        return try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// The browser, when it is on and installed. The jails show the host's
    /// system directories at the same paths, so the binary must lie in one.
    private static func browser(_ configuration: SupervisorConfiguration) throws -> BrowserSettings? {
        let binary = configuration.browserBinary
        guard configuration.browserEnabled, FileManager.default.isExecutableFile(atPath: binary) else { return nil }
        guard JailConfig(command: binary).systemDirectories.contains(where: { binary.hasPrefix($0 + "/") }) else {
            throw ConfigurationError("browser.binary \(binary) must lie under /usr, /bin or /lib, which the jails show")
        }
        let profile: JSONValue
        do { profile = try profileJSON("browser") } catch {
            throw ConfigurationError("cannot load the browser's seccomp profile: \(error)")
        }
        return BrowserSettings(binary: binary, profile: profile, idleMs: Int(configuration.browserIdleSeconds * 1000))
    }

    /// The browser's share of a tenant's memory: all of it but what the worker and a small call need.
    static func browserMemory(ofTenant bytes: Int) -> Int {
        max(bytes / 2, bytes - (64 << 20))
    }
}
