import Foundation

/// Times as the APIs and the CLI write and read them: RFC 3339, with or
/// without fractional seconds.
public enum RFC3339 {
    public static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// nil when `text` is not an RFC 3339 time (a bare date too with `allowDate`).
    public static func parse(_ text: String, allowDate: Bool = false) -> Date? {
        var forms: [ISO8601DateFormatter.Options] = [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime]]
        if allowDate { forms.append([.withFullDate]) }
        for options in forms {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}
