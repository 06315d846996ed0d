import Foundation
import WorkerProtocol

/// A call held for approval, as the worker calls that will carry it out once
/// a person approves: kept in the approval record so it survives a restart.
struct DeferredCall: Codable, Sendable, Equatable {
    struct Step: Codable, Sendable, Equatable {
        var tool: String
        var args: JSONValue

        /// An exec step that asked for the network, or a fetch.
        var usesNetwork: Bool {
            if isFetch { return true }
            guard case .object(let fields) = args else { return false }
            return fields["network"] == .bool(true)
        }

        /// A fetch, which the supervisor runs itself; every other step is a worker call.
        var isFetch: Bool { tool == FetchController.tool }
    }

    enum Output: String, Codable, Sendable {
        /// The last step's JSON result.
        case json
        /// The bytes the steps streamed, as `{"content": base64, "encoding": "base64"}` (file reads, screenshots).
        case bytes
        /// The bytes the steps streamed, which are JSON (a browser page's content, an evaluation).
        case streamedJSON = "streamed_json"
    }

    var steps: [Step]
    var output: Output
    /// 200, or 201 for writes: what the call would have answered at once.
    var successStatus: Int
    /// How long the run may take before it is abandoned.
    var deadlineMs: Int

    /// One worker call with typed arguments.
    init<Args: Encodable>(_ tool: Tool, _ args: Args, output: Output = .json, successStatus: Int = 200,
                          deadline: Duration) throws {
        try self.init(steps: [(tool, args)], output: output, successStatus: successStatus, deadline: deadline)
    }

    init<Args: Encodable>(steps: [(Tool, Args)], output: Output = .json, successStatus: Int = 200,
                          deadline: Duration) throws {
        self.steps = try steps.map { tool, args in
            Step(tool: tool.rawValue, args: try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(args)))
        }
        self.output = output
        self.successStatus = successStatus
        let (seconds, attoseconds) = deadline.components
        deadlineMs = Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    /// A fetch, as `FetchController` checked it.
    init(fetch request: FetchRequest, deadline: Duration) throws {
        let args = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(request))
        steps = [Step(tool: FetchController.tool, args: args)]
        output = .json
        successStatus = 200
        deadlineMs = Int(deadline / .milliseconds(1))
    }

    var usesNetwork: Bool { steps.contains { $0.usesNetwork } }

    /// Whether a step needs the tenant's worker.
    var needsWorker: Bool { steps.contains { !$0.isFetch } }

    func encoded() throws -> Data { try JSONEncoder().encode(self) }

    static func decode(_ data: Data) throws -> DeferredCall { try JSONDecoder().decode(DeferredCall.self, from: data) }
}
