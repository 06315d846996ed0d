import Foundation
import Synchronization

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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ["PATH": searchPath.joined(separator: ":"), "LANG": "C"]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes before waiting: a full pipe would stall the tool.
        let errorBox = Mutex(Data())
        let errorsRead = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let data = errors.fileHandleForReading.readDataToEndOfFile()
            errorBox.withLock { $0 = data }
            errorsRead.signal()
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        errorsRead.wait()
        let errorData = errorBox.withLock { $0 }
        process.waitUntilExit()
        guard okStatuses.contains(process.terminationStatus) else {
            let text = String(decoding: errorData.isEmpty ? outputData : errorData, as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw Failure(description: "\(name) \(arguments.joined(separator: " ")) failed (exit \(process.terminationStatus)): \(text)")
        }
        return String(decoding: outputData, as: UTF8.self)
    }
}
