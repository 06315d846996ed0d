import ArgumentParser
import Foundation
import Policy

/// Reads `.rego` modules and `.json` data from files and directories, as `opa` does:
/// a JSON file given directly merges at the root of `data`; inside a directory it lands at
/// the path of its folder (`x/y/data.json` → `data.x.y`).
struct PolicyLoader {
    var sources: [PolicySource] = []
    var data: Value = .emptyObject

    init(paths: [String], testsOnly: Bool = false) throws {
        for path in paths { try load(path) }
    }

    mutating func load(_ path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ValidationError("no such file or directory: \(path)")
        }
        if !isDir.boolValue {
            try loadFile(path, dataPath: [])
            return
        }
        let root = URL(fileURLWithPath: path).standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return }
        var files: [URL] = []
        for case let url as URL in walker { files.append(url) }
        for url in files.sorted(by: { $0.path < $1.path }) {
            let relative = url.standardizedFileURL.path.dropFirst(root.path.count).split(separator: "/").map(String.init)
            try loadFile(url.path, dataPath: Array(relative.dropLast()))
        }
    }

    mutating func loadFile(_ path: String, dataPath: [String]) throws {
        if path.hasSuffix(".rego") {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            sources.append(PolicySource(file: path, text: text))
        } else if path.hasSuffix(".json") {
            let value = try Value(jsonData: try Data(contentsOf: URL(fileURLWithPath: path)))
            var nested = value
            for key in dataPath.reversed() { nested = .object(RegoObject([(.string(key), nested)])) }
            data = data.merging(nested)
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
