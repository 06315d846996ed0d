/// How a language's code is run: the interpreter and the file the code goes in.
enum Language: String {
    case python, node, bash

    var command: String {
        switch self {
        case .python: return "python3"
        case .node: return "node"
        case .bash: return "bash"
        }
    }

    var scriptName: String {
        switch self {
        case .python: return "main.py"
        case .node: return "main.js"
        case .bash: return "main.sh"
        }
    }

    /// Output must reach a streaming caller as it is printed, not when a buffer fills.
    var environment: [String: String] {
        switch self {
        case .python: return ["PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"]
        case .node, .bash: return [:]
        }
    }
}
