#if canImport(Glibc)
import Glibc
#endif

/// Finds the policy files that ship with Warden: `$WARDEN_POLICIES`, then
/// `./policies`, then `policies/` beside or above the running executable
/// (a build tree), then `/usr/share/warden/policies`.
public enum ProfileLocator {
    public static func policiesDirectory() -> String? {
        var candidates: [String] = []
        if let env = getenv("WARDEN_POLICIES") { candidates.append(String(cString: env)) }
        candidates.append("./policies")
        var dir = executableDirectory()
        for _ in 0..<6 {
            candidates.append(dir + "/policies")
            dir = parent(of: dir)
        }
        candidates.append("/usr/share/warden/policies")
        return candidates.first { HostFile.isDirectory($0 + "/seccomp") }
    }

    static func path(ofProfile nameOrPath: String) throws(SandboxError) -> String {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".json") {
            guard HostFile.exists(nameOrPath) else {
                throw SandboxError.profileNotFound("seccomp profile \(nameOrPath) does not exist")
            }
            return nameOrPath
        }
        guard let dir = policiesDirectory() else {
            throw SandboxError.profileNotFound(
                "no policies directory with seccomp profiles was found; set WARDEN_POLICIES to the policies/ folder")
        }
        let path = "\(dir)/seccomp/\(nameOrPath).json"
        guard HostFile.exists(path) else {
            throw SandboxError.profileNotFound("no seccomp profile named \(nameOrPath) in \(dir)/seccomp")
        }
        return path
    }

    static func executableDirectory() -> String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return "." }
        return parent(of: String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
