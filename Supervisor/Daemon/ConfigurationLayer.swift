import Foundation
import TOMLKit

/// The settings one source provides: the TOML file, the environment or flags.
public struct ConfigurationLayer: Sendable, Equatable {
    /// Names the source in error messages ("config file /etc/warden.toml").
    public var source: String
    public var values: [ConfigurationKey: ConfigurationValue]

    public init(source: String, values: [ConfigurationKey: ConfigurationValue] = [:]) {
        self.source = source
        self.values = values
    }

    func name(of key: ConfigurationKey) -> String {
        switch source {
        case Self.environmentSource: return key.environmentVariable
        case Self.flagsSource: return key.flagName
        default: return "\(source): \(key.rawValue)"
        }
    }

    public static let environmentSource = "environment"
    public static let flagsSource = "command line"

    /// Flags given to `warden serve`; nil means "not given".
    public static func flags(_ values: [ConfigurationKey: ConfigurationValue?]) -> ConfigurationLayer {
        ConfigurationLayer(source: flagsSource, values: values.compactMapValues { $0 })
    }

    /// `WARDEN_…` variables; unrelated variables are ignored.
    public static func environment(_ environment: [String: String]) -> ConfigurationLayer {
        var layer = ConfigurationLayer(source: environmentSource)
        for key in ConfigurationKey.allCases {
            if let value = environment[key.environmentVariable] {
                layer.values[key] = .string(value)
            }
        }
        return layer
    }

    /// Parses a TOML document. Unknown keys are errors: a misspelt setting
    /// silently falling back to its default is worse than refusing to start.
    public static func toml(_ text: String, source: String) throws -> ConfigurationLayer {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(
                "\(source): not valid TOML at line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
        }
        var layer = ConfigurationLayer(source: source)
        try collect(table, path: [], into: &layer)
        return layer
    }

    public static func tomlFile(at path: String) throws -> ConfigurationLayer {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("cannot read config file \(path): \(error.localizedDescription)")
        }
        return try toml(text, source: "config file \(path)")
    }

    private static func collect(_ table: TOMLTable, path: [String], into layer: inout ConfigurationLayer) throws {
        for keyName in table.keys {
            guard let entry = table[keyName] else { continue }
            let fullPath = path + [keyName]
            let dotted = fullPath.joined(separator: ".")
            if let nested = entry.table {
                try collect(nested, path: fullPath, into: &layer)
                continue
            }
            guard let key = ConfigurationKey(rawValue: dotted) else {
                let known = ConfigurationKey.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigurationError("\(layer.source): unknown setting '\(dotted)'; known settings: \(known)")
            }
            if let text = entry.string {
                layer.values[key] = .string(text)
            } else if let integer = entry.int {
                layer.values[key] = .integer(integer)
            } else if let number = entry.double {
                layer.values[key] = .number(number)
            } else if let flag = entry.bool {
                layer.values[key] = .string(flag ? "true" : "false")
            } else {
                throw ConfigurationError("\(layer.source): \(dotted) must be a string, a number or a boolean")
            }
        }
    }
}

extension SupervisorConfiguration {
    /// Reads the file named by `configFile` (or `WARDEN_CONFIG`), then the
    /// environment, then `flags`, in that order of precedence, lowest first.
    public static func load(configFile: String?, environment: [String: String],
                            flags: ConfigurationLayer) throws -> SupervisorConfiguration {
        var layers: [ConfigurationLayer] = []
        if let path = configFile ?? environment[ConfigurationKey.configFileEnvironmentVariable], !path.isEmpty {
            layers.append(try .tomlFile(at: path))
        }
        layers.append(.environment(environment))
        layers.append(flags)
        return try resolve(layers)
    }
}
