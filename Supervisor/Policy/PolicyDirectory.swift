import Foundation

/// Rego modules and JSON data read from files and directories, as `opa` reads them:
/// a JSON file given directly merges at the root of `data`; inside a directory it lands
/// at the path of its folder (`x/y/data.json` → `data.x.y`). Files are read in path order.
public struct PolicyBundle: Sendable {
    public var sources: [PolicySource] = []
    public var data: Value = .emptyObject

    public init(sources: [PolicySource] = [], data: Value = .emptyObject) {
        self.sources = sources
        self.data = data
    }

    /// Files under a directory for which this answers false are skipped (files named directly never are).
    var includes: @Sendable (String) -> Bool = { _ in true }

    /// Reads every path; throws `PolicyLoadError` naming the file that could not be read.
    public init(paths: [String], including includes: @escaping @Sendable (String) -> Bool = { _ in true }) throws {
        self.includes = includes
        for path in paths { try load(path) }
    }

    /// Parses and compiles the bundle.
    public func compile(builtins: BuiltinRegistry = .standard) throws -> CompiledPolicy {
        try CompiledPolicy(sources: sources, data: data, builtins: builtins)
    }

    mutating func load(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PolicyLoadError(path: path, message: "no such file or directory")
        }
        guard isDirectory.boolValue else {
            try loadFile(path, dataPath: [])
            return
        }
        let root = URL(fileURLWithPath: path).standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
            throw PolicyLoadError(path: path, message: "cannot list the directory")
        }
        var files: [URL] = []
        for case let url as URL in walker { files.append(url) }
        for url in files.sorted(by: { $0.path < $1.path }) where includes(url.path) {
            let relative = url.standardizedFileURL.path.dropFirst(root.path.count).split(separator: "/").map(String.init)
            try loadFile(url.path, dataPath: Array(relative.dropLast()))
        }
    }

    mutating func loadFile(_ path: String, dataPath: [String]) throws {
        if path.hasSuffix(".rego") {
            do {
                sources.append(PolicySource(file: path, text: try String(contentsOfFile: path, encoding: .utf8)))
            } catch {
                throw PolicyLoadError(path: path, message: "cannot read the file as UTF-8 text")
            }
        } else if path.hasSuffix(".json") {
            let value: Value
            do {
                value = try Value(jsonData: try Data(contentsOf: URL(fileURLWithPath: path)))
            } catch let error as JSONParseError {
                throw PolicyLoadError(path: path, message: "not valid JSON: \(error)")
            } catch {
                throw PolicyLoadError(path: path, message: "cannot read the file")
            }
            var nested = value
            for key in dataPath.reversed() { nested = .object(RegoObject([(.string(key), nested)])) }
            data = data.merging(nested)
        }
    }
}

/// A policy file or directory that could not be read.
public struct PolicyLoadError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public var description: String { "\(path): \(message)" }
}
