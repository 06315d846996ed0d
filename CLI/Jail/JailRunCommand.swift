import ArgumentParser
import Foundation
import Sandbox

struct JailRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a program in a jail and report how it ended.",
        discussion: """
        The exit code mirrors the payload's: its own code, 128+N when killed by signal N, \
        124 when a time limit ended it, 125 when the jail could not be set up.
        """
    )

    @OptionGroup var options: JailOptions
    @Flag(help: "Capture the output and print one JSON document with the result, stdout and stderr.")
    var json = false
    @Flag(help: "Do not print the guarantees missing on this host.")
    var quiet = false
    @Argument(parsing: .captureForPassthrough, help: "-- PROGRAM ARGS…")
    var command: [String] = []

    func run() throws {
        let argv = command.first == "--" ? Array(command.dropFirst()) : command
        let config = try options.config(command: argv)
        let jail = try options.jail()
        if !quiet {
            for line in jail.facts.missingGuarantees(for: config) { FileHandle.standardError.write(Data("warden: \(line)\n".utf8)) }
        }
        let outcome: JailOutcome
        if json {
            outcome = jail.run(config, stdin: .null)
            let data = try JSONEncoder.warden.encode(RunReport(outcome: outcome))
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else {
            outcome = jail.run(config, stdin: .fileDescriptor(0), keepOutput: false) { stream, chunk in
                let fd: Int32 = stream == .stdout ? 1 : 2
                var offset = 0
                while offset < chunk.count {
                    let n = write(fd, chunk.baseAddress! + offset, chunk.count - offset)
                    if n <= 0 { break }
                    offset += n
                }
            }
            if outcome.result.status != .ok && outcome.result.status != .exitedNonzero {
                let r = outcome.result
                let detail = r.message.map { ": \($0)" } ?? ""
                FileHandle.standardError.write(Data("warden: \(r.status.rawValue)\(detail)\n".utf8))
            }
        }
        throw ExitCode(outcome.result.mirroredExitCode)
    }
}

/// The JSON of `jail run --json`: the result's fields plus the output.
struct RunReport: Encodable {
    let outcome: JailOutcome

    enum Keys: String, CodingKey {
        case stdout, stderr
        case stdoutEncoding = "stdout_encoding"
        case stderrEncoding = "stderr_encoding"
    }

    func encode(to encoder: Encoder) throws {
        try outcome.result.encode(to: encoder)
        var c = encoder.container(keyedBy: Keys.self)
        let (out, outEncoding) = Self.text(outcome.stdout)
        let (err, errEncoding) = Self.text(outcome.stderr)
        try c.encode(out, forKey: .stdout)
        try c.encode(err, forKey: .stderr)
        try c.encode(outEncoding, forKey: .stdoutEncoding)
        try c.encode(errEncoding, forKey: .stderrEncoding)
    }

    /// UTF-8 text as is; anything else as base64.
    static func text(_ bytes: [UInt8]) -> (String, String) {
        if let s = String(validating: bytes, as: UTF8.self) { return (s, "utf8") }
        return (Data(bytes).base64EncodedString(), "base64")
    }
}

extension JSONEncoder {
    static var warden: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
