/// Errors every back end reports in the same terms, so the HTTP layer can map
/// them to statuses without knowing which database is behind the protocol.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A unique value is taken, or a state change is not allowed.
    case conflict(String)
    case notFound(String)
    /// Input the store refuses (bad name, bad plan).
    case invalid(String)
    /// The database was written by a newer Warden; nothing was changed.
    case schemaTooNew(database: String, unknownMigrations: [String], knownMigrations: [String])
    /// No room left for another host uid/gid range.
    case hostIDRangesExhausted(String)
    /// The database cannot be reached now (server down, connection lost); the
    /// same call may work later, and nothing is to be fixed in the request.
    case unavailable(String)

    public var description: String {
        switch self {
        case .conflict(let message), .notFound(let message), .invalid(let message),
             .hostIDRangesExhausted(let message), .unavailable(let message):
            return message
        case .schemaTooNew(let database, let unknown, let known):
            return "the database \(database) has schema migrations this version of Warden does not know "
                + "(\(unknown.joined(separator: ", "))); it knows only \(known.joined(separator: ", ")). "
                + "It was written by a newer Warden: run that version, or point --state-dir or --store elsewhere."
        }
    }
}
