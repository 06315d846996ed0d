import CSandbox
#if canImport(Glibc)
import Glibc
#endif

/// A helper program run to the end from a process that may hold thousands of
/// descriptors (a supervisor with many workers): none of them reaches the
/// program. Foundation's `Process` copies the list of open descriptors into a
/// fixed buffer and crashes past about a thousand.
public enum ToolProcess {
    public struct Outcome: Sendable {
        /// The exit code, or 128 + the signal that ended it.
        public var status: Int32
        public var output: [UInt8]
        public var errors: [UInt8]
    }

    public static func run(_ path: String, _ arguments: [String], environment: [String]) throws(SandboxError) -> Outcome {
        var argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: Int32 = 0, out: Int32 = -1, err: Int32 = -1
        let rc = wd_spawn_tool(path, &argv, &envp, &pid, &out, &err)
        guard rc == 0 else { throw SandboxError.system("cannot start \(path)", errno: -rc) }
        let (output, errors) = drain(out, err)
        close(out)
        close(err)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return Outcome(status: signal == 0 ? (status >> 8) & 0xff : 128 + signal, output: output, errors: errors)
    }

    /// Reads both pipes to their end at once: a tool that fills one would stall otherwise.
    private static func drain(_ out: Int32, _ err: Int32) -> ([UInt8], [UInt8]) {
        var collected: [[UInt8]] = [[], []]
        var fds = [pollfd(fd: out, events: Int16(POLLIN), revents: 0), pollfd(fd: err, events: Int16(POLLIN), revents: 0)]
        var open = 2
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while open > 0 {
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for index in fds.indices where fds[index].fd >= 0 && fds[index].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(fds[index].fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    collected[index].append(contentsOf: buffer[0..<count])
                } else if count == 0 || errno != EINTR {
                    fds[index].fd = -1
                    open -= 1
                }
            }
        }
        return (collected[0], collected[1])
    }
}
