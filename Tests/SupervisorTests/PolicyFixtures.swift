import Foundation
import Testing

/// A policy directory for a test: the shipped rules, plus data or extra files
/// the test writes. Removed when the test ends.
final class PolicyDirectory: @unchecked Sendable {
    let directory: TemporaryDirectory
    var path: String { directory.path }

    init(plans: String? = nil) throws {
        directory = try TemporaryDirectory()
        let shipped = Live.policies
        for name in try FileManager.default.contentsOfDirectory(atPath: shipped)
        where name.hasSuffix(".rego") && !name.hasSuffix("_test.rego") {
            try FileManager.default.copyItem(atPath: "\(shipped)/\(name)", toPath: "\(path)/\(name)")
        }
        if let plans { try write("data.json", #"{"plans": \#(plans)}"#) }
    }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: "\(path)/\(name)"))
    }

    func remove(_ name: String) throws {
        try FileManager.default.removeItem(atPath: "\(path)/\(name)")
    }

    /// Plans where `held` tools need approval and everything else is allowed with room to spare.
    static func plans(held: [String]) -> String {
        let tools = #"["exec", "files.list", "files.read", "files.write", "files.delete"]"#
        let approval = "[" + held.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        return #"{"pro": {"tools": \#(tools), "limits": {"timeout_ms": 60000}, "network": false, "approval_tools": \#(approval)}}"#
    }
}
