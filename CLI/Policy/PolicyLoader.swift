import ArgumentParser
import Foundation
import Policy

/// The CLI's view of `PolicyBundle`: a file that cannot be read is a usage error.
struct PolicyLoader {
    var sources: [PolicySource]
    var data: Value

    init(paths: [String], testsOnly: Bool = false) throws {
        do {
            let bundle = try PolicyBundle(paths: paths)
            sources = bundle.sources
            data = bundle.data
        } catch let error as PolicyLoadError {
            throw ValidationError(error.description)
        }
    }

    /// Reads an input document.
    static func input(_ path: String?) throws -> Value? {
        guard let path else { return nil }
        return try Value(jsonData: try Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

/// Where `print(...)` in a policy writes, as with `opa eval` and `opa test`: one line each.
@Sendable func printToStandardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// The `{"errors": [...]}` document of `opa eval --format json`.
func errorDocument(_ errors: [PolicyError]) -> String {
    let items = errors.map { e -> String in
        var fields = ["\"code\":" + Value.string(e.code).jsonText(), "\"message\":" + Value.string(e.message).jsonText()]
        if let l = e.location {
            fields.append("\"location\":{\"file\":\(Value.string(l.file).jsonText()),\"row\":\(l.row),\"col\":\(l.col)}")
        }
        return "{" + fields.joined(separator: ",") + "}"
    }
    return "{\"errors\":[" + items.joined(separator: ",") + "]}"
}
