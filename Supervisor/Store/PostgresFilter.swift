/// WHERE conditions built one at a time, each bound to its own `$n` parameter.
struct PostgresFilter: Sendable {
    private(set) var conditions: [String] = []
    private(set) var parameters: [any PostgresBindable] = []

    /// Adds `left $n`, e.g. `add("tenant_id =", id)`.
    mutating func add(_ left: String, _ value: any PostgresBindable) {
        conditions.append("\(left) \(bind(value))")
    }

    /// Binds a value that is not a condition (a LIMIT) and returns its `$n`.
    mutating func bind(_ value: any PostgresBindable) -> String {
        parameters.append(value)
        return "$\(parameters.count)"
    }

    var whereClause: String { conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") }
}
