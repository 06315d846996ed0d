import CPQ
import Foundation

/// A failed statement as the server (or libpq) told it.
struct PostgresError: Error, CustomStringConvertible {
    /// The five-character SQLSTATE, when the server sent one.
    var sqlState: String?
    var message: String
    /// The connection is gone: nothing more can be sent on it.
    var connectionLost: Bool

    var description: String { message }

    static let uniqueViolation = "23505"
}

/// One libpq connection. Not thread-safe: a pool thread owns it and is the
/// only one to use it (libpq allows that much, and no more).
final class PostgresConnection {
    private let handle: OpaquePointer
    /// Prepared statement names by SQL text: each statement is parsed once per connection.
    private var prepared: [String: String] = [:]
    /// Statements that succeeded since `startJob()`; 0 means nothing reached the server.
    private(set) var succeeded = 0

    /// Connects with `connection` handed to libpq as is: a `postgresql://` URI,
    /// a `key=value` string, or "" for the PG* variables and service file
    /// alone. `parameters` are libpq keywords that override the string's.
    init(_ connection: String, parameters: [String: String] = [:]) throws {
        // expand_dbname: the first dbname is read as a whole connection string;
        // keywords after it override what the string says.
        let pairs = [("dbname", connection), ("fallback_application_name", "warden")]
            + parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let keywords = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer { (keywords + values).forEach { free($0) } }
        let handle = PQconnectdbParams((keywords + [nil]).map { UnsafePointer($0) },
                                       (values + [nil]).map { UnsafePointer($0) }, 1)
        guard let handle else { throw StoreError.unavailable("cannot connect to PostgreSQL: libpq is out of memory") }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.clean(String(cString: PQerrorMessage(handle)))
            PQfinish(handle)
            throw StoreError.unavailable("cannot connect to PostgreSQL: \(message)")
        }
        self.handle = handle
        // Notices (CREATE … IF NOT EXISTS skipping) would go to stderr otherwise.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
    }

    deinit {
        PQfinish(handle)
    }

    var isBroken: Bool { PQstatus(handle) == CONNECTION_BAD }

    /// "database warden on 127.0.0.1:5432", for messages; never the password.
    var summary: String {
        let host = String(cString: PQhost(handle))
        let place = host.hasPrefix("/") ? "socket \(host)/.s.PGSQL.\(String(cString: PQport(handle)))"
                                         : "\(host):\(String(cString: PQport(handle)))"
        return "database \(String(cString: PQdb(handle))) on \(place)"
    }

    var serverVersion: Int { Int(PQserverVersion(handle)) }

    func startJob() {
        succeeded = 0
    }

    /// Runs SQL without parameters; several statements separated by `;` are allowed.
    @discardableResult
    func execute(_ sql: String) throws -> PostgresResult {
        try check(PQexec(handle, sql))
    }

    /// Runs one statement with `$1…` parameters, prepared once per connection.
    @discardableResult
    func execute(_ sql: String, _ parameters: [any PostgresBindable]) throws -> PostgresResult {
        let values = parameters.map(\.postgresValue)
        let name = try statement(for: sql, values)
        var lengths: [Int32] = []
        var formats: [Int32] = []
        var pointers: [UnsafeMutablePointer<CChar>?] = []
        defer { pointers.forEach { free($0) } }
        for value in values {
            // Text parameters are NUL-terminated (length 0 is ignored); bytea goes as raw bytes (format 1).
            var length: Int32 = 0
            var format: Int32 = 0
            switch value {
            case .null:
                pointers.append(nil)
            case .bytes(let data):
                let buffer = malloc(max(1, data.count))?.assumingMemoryBound(to: CChar.self)
                data.withUnsafeBytes { bytes in
                    if let buffer, let base = bytes.baseAddress { memcpy(buffer, base, data.count) }
                }
                pointers.append(buffer)
                length = Int32(data.count)
                format = 1
            case .text(let text): pointers.append(strdup(text))
            case .int(let number): pointers.append(strdup(String(number)))
            // Swift prints the shortest text that reads back to the same double.
            case .double(let number): pointers.append(strdup("\(number)"))
            case .bool(let flag): pointers.append(strdup(flag ? "t" : "f"))
            }
            lengths.append(length)
            formats.append(format)
        }
        return try check(PQexecPrepared(handle, name, Int32(values.count), pointers.map { UnsafePointer($0) },
                                        lengths, formats, 0))
    }

    /// BEGIN … COMMIT around `body`; ROLLBACK when it throws.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            rollBackIfNeeded()
            throw error
        }
    }

    /// Leaves no transaction open behind a failed job, so the next one starts clean.
    func rollBackIfNeeded() {
        if !isBroken && PQtransactionStatus(handle) != PQTRANS_IDLE {
            _ = try? execute("ROLLBACK")
        }
    }

    private func statement(for sql: String, _ values: [PostgresValue]) throws -> String {
        if let name = prepared[sql] { return name }
        let name = "s\(prepared.count)"
        try check(PQprepare(handle, name, sql, Int32(values.count), values.map(\.typeOID)))
        prepared[sql] = name
        return name
    }

    @discardableResult
    private func check(_ result: OpaquePointer?) throws -> PostgresResult {
        guard let result else {
            throw PostgresError(sqlState: nil, message: Self.clean(String(cString: PQerrorMessage(handle))),
                                connectionLost: isBroken)
        }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = Self.clean(String(cString: PQresultErrorMessage(result)))
            PQclear(result)
            throw PostgresError(sqlState: state, message: message.isEmpty ? Self.clean(String(cString: PQerrorMessage(handle))) : message,
                                connectionLost: isBroken)
        }
        succeeded += 1
        return PostgresResult(result)
    }

    /// libpq's messages end in newlines and indent their detail lines.
    static func clean(_ message: String) -> String {
        message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }
}
