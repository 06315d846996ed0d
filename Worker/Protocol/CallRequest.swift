/// The tools a worker serves.
public enum Tool: String, Sendable, Codable, CaseIterable {
    case exec
    case filesList = "files.list"
    case filesRead = "files.read"
    case filesWrite = "files.write"
    case filesDelete = "files.delete"
    case browserContent = "browser.content"
    case browserScreenshot = "browser.screenshot"
    case browserPDF = "browser.pdf"
    case browserEvaluate = "browser.evaluate"
    /// The supervisor's own call: how full the workspace is (for the storage.bytes gauge).
    case workspaceUsage = "workspace.usage"
}

/// CALL's payload with the arguments typed for its tool.
public struct CallRequest<Args: Codable & Sendable>: Sendable, Codable {
    public var tool: String
    public var args: Args
    public var requestID: String?

    public init(tool: Tool, args: Args, requestID: String?) {
        self.tool = tool.rawValue
        self.args = args
        self.requestID = requestID
    }

    enum CodingKeys: String, CodingKey {
        case tool, args
        case requestID = "request_id"
    }
}

/// CALL's payload without its arguments: read first to pick the tool.
public struct CallHeader: Sendable, Codable {
    public var tool: String
    public var requestID: String?

    enum CodingKeys: String, CodingKey {
        case tool
        case requestID = "request_id"
    }
}
