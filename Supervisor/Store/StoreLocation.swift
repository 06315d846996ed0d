import Foundation

/// Where the system of record lives, as the `store.url` setting names it:
/// `sqlite` (the file in the state directory), or PostgreSQL given as a
/// `postgres://`/`postgresql://` URI, a libpq `key=value` string, or the bare
/// word `postgresql` for libpq's PG* environment variables and service file alone.
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite
    /// The libpq connection string, passed to libpq as is.
    case postgres(String)

    public init(parsing value: String) throws {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        let lowered = trimmed.lowercased()
        if lowered == "sqlite" {
            self = .sqlite
        } else if lowered == "postgres" || lowered == "postgresql" {
            self = .postgres("")
        } else if lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") || trimmed.contains("=") {
            self = .postgres(trimmed)
        } else {
            throw StoreError.invalid(
                "store '\(value)' is not one of: sqlite, a postgres:// or postgresql:// URI, a libpq string such as "
                    + "'host=127.0.0.1 dbname=warden', or postgresql (connection from the PG* environment variables)")
        }
    }

    /// `sqlite` or `postgresql`, as health reports it.
    public var backend: String {
        switch self {
        case .sqlite: return "sqlite"
        case .postgres: return "postgresql"
        }
    }

    /// For logs: the URI or string without its password.
    public var description: String {
        switch self {
        case .sqlite: return "sqlite"
        case .postgres(let connection): return connection.isEmpty ? "postgresql (PG* environment)" : Self.redacted(connection)
        }
    }

    static func redacted(_ connection: String) -> String {
        var text = connection
        // URI: scheme://user:password@host…
        if let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@"),
           let colon = text[scheme.upperBound..<at].firstIndex(of: ":") {
            text.replaceSubrange(text.index(after: colon)..<at, with: "***")
        }
        // Keywords and URI query parameters: password=… or password='…'
        return text.replacingOccurrences(of: #"(?i)password\s*=\s*('[^']*'|[^ &]*)"#, with: "password=***",
                                         options: .regularExpression)
    }
}
