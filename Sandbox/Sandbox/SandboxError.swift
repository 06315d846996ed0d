/// Errors of the Sandbox API; each says what was wrong and what to do.
public enum SandboxError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidConfig(String)
    case invalidProfile(String)
    case profileNotFound(String)
    case cgroup(String)
    case system(String, errno: Int32)

    public var description: String {
        switch self {
        case .invalidConfig(let m): return "invalid jail configuration: \(m)"
        case .invalidProfile(let m): return "invalid seccomp profile: \(m)"
        case .profileNotFound(let m): return m
        case .cgroup(let m): return "cgroup: \(m)"
        case .system(let what, let err): return "\(what): \(HostFile.errorText(err))"
        }
    }
}
