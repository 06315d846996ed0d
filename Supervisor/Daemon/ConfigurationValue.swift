import Foundation

/// A raw setting as a source gave it; validated when applied.
public enum ConfigurationValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case number(Double)

    func nonEmptyString(_ source: String) throws -> String {
        guard case .string(let text) = self, !text.isEmpty else {
            throw ConfigurationError("\(source) must be a non-empty string")
        }
        return text
    }

    /// Environment variables and flags arrive as text; TOML as typed values.
    func integer(_ source: String, in range: ClosedRange<Int>) throws -> Int {
        let parsed: Int?
        switch self {
        case .integer(let value): parsed = value
        case .string(let text): parsed = Int(text.trimmingCharacters(in: .whitespaces))
        case .number: parsed = nil
        }
        guard let value = parsed else { throw ConfigurationError("\(source) must be an integer, got \(self.display)") }
        guard range.contains(value) else {
            throw ConfigurationError("\(source) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    func number(_ source: String, in range: ClosedRange<Double>) throws -> Double {
        let parsed: Double?
        switch self {
        case .integer(let value): parsed = Double(value)
        case .number(let value): parsed = value
        case .string(let text): parsed = Double(text.trimmingCharacters(in: .whitespaces))
        }
        guard let value = parsed, value.isFinite else {
            throw ConfigurationError("\(source) must be a number, got \(self.display)")
        }
        guard range.contains(value) else {
            throw ConfigurationError("\(source) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    /// true/false (also yes/no, on/off, 1/0), as TOML, variables and flags may say it.
    func boolean(_ source: String) throws -> Bool {
        let text: String
        switch self {
        case .string(let value): text = value.lowercased().trimmingCharacters(in: .whitespaces)
        case .integer(let value): text = String(value)
        case .number: text = ""
        }
        switch text {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw ConfigurationError("\(source) must be true or false, got \(display)")
        }
    }

    var display: String {
        switch self {
        case .string(let text): return "'\(text)'"
        case .integer(let value): return String(value)
        case .number(let value): return String(value)
        }
    }
}
