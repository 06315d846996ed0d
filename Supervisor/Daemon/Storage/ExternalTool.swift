import Foundation
import Sandbox

/// Runs one of the e2fsprogs tools (mkfs.ext4, resize2fs, e2fsck, dumpe2fs,
/// debugfs) to the end and returns its standard output.
enum ExternalTool {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let searchPath = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]

    static func path(of name: String) -> String? {
        searchPath.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `okStatuses`: exit codes that mean success (e2fsck answers 1 when it fixed something).
    @discardableResult
    static func run(_ name: String, _ arguments: [String], okStatuses: Set<Int32> = [0]) throws -> String {
        guard let executable = path(of: name) else {
            throw Failure(description: "\(name) is not installed; install e2fsprogs (apt-get install e2fsprogs)")
        }
        let outcome = try ToolProcess.run(executable, arguments,
                                          environment: ["PATH=" + searchPath.joined(separator: ":"), "LANG=C"])
        guard okStatuses.contains(outcome.status) else {
            let text = String(decoding: outcome.errors.isEmpty ? outcome.output : outcome.errors, as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw Failure(description: "\(name) \(arguments.joined(separator: " ")) failed (exit \(outcome.status)): \(text)")
        }
        return String(decoding: outcome.output, as: UTF8.self)
    }
}
