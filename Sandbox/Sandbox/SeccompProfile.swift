import FoundationEssentials

/// A seccomp profile in the OCI/Docker JSON format.
public struct SeccompProfile: Sendable, Codable, Hashable {
    public var defaultAction: String
    public var defaultErrnoRet: UInt32?
    public var architectures: [String]?
    public var syscalls: [Rule]

    public struct Rule: Sendable, Codable, Hashable {
        public var names: [String]
        public var action: String
        public var errnoRet: UInt32?
        public var args: [Argument]?
        public var comment: String?
        public var includes: Filter?
        public var excludes: Filter?
    }

    public struct Argument: Sendable, Codable, Hashable {
        public var index: UInt32
        public var value: UInt64
        public var valueTwo: UInt64?
        public var op: String
    }

    /// Docker's conditions on a rule; only the architecture is meaningful here.
    public struct Filter: Sendable, Codable, Hashable {
        public var arches: [String]?
        public var caps: [String]?
        public var minKernel: String?
    }

    public init(defaultAction: String, defaultErrnoRet: UInt32? = nil, syscalls: [Rule]) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.architectures = nil
        self.syscalls = syscalls
    }

    public static func decode(_ data: [UInt8], source: String) throws(SandboxError) -> SeccompProfile {
        do {
            return try JSONDecoder().decode(SeccompProfile.self, from: Data(data))
        } catch {
            throw SandboxError.invalidProfile("\(source): not a seccomp profile in the OCI format: \(error)")
        }
    }

    /// Loads `name` (a profile of the policies directory, such as "default") or a path to a JSON file.
    public static func load(_ nameOrPath: String) throws(SandboxError) -> SeccompProfile {
        let path = try ProfileLocator.path(ofProfile: nameOrPath)
        let bytes = try HostFile.read(path)
        return try decode(bytes, source: path)
    }
}
