import Foundation
import Supervisor
import Testing

/// A policy directory for a test: the shipped rules, plus data or extra files
/// the test writes. Removed when the test ends.
final class PolicyDirectory: @unchecked Sendable {
    let directory: TemporaryDirectory
    var path: String { directory.path }

    init() throws {
        directory = try TemporaryDirectory()
        let shipped = Live.policies
        for name in try FileManager.default.contentsOfDirectory(atPath: shipped)
        where name.hasSuffix(".rego") && !name.hasSuffix("_test.rego") {
            try FileManager.default.copyItem(atPath: "\(shipped)/\(name)", toPath: "\(path)/\(name)")
        }
    }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: "\(path)/\(name)"))
    }

    func remove(_ name: String) throws {
        try FileManager.default.removeItem(atPath: "\(path)/\(name)")
    }

}

extension AdminClient {
    /// Makes calls of `tools` on `plan` wait for approval, through `warden plan set`'s API.
    func holdForApproval(_ tools: [String], on plan: String = "pro") async throws {
        var changed = try await self.plan(plan)
        changed.approvalTools = tools
        _ = try await updatePlan(changed)
    }

    /// Lets `plan` call only `tools`.
    func allowOnly(_ tools: [String], on plan: String = "pro") async throws {
        var changed = try await self.plan(plan)
        changed.tools = tools
        _ = try await updatePlan(changed)
    }
}
