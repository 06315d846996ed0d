import CPQ
import Foundation

/// The rows of one statement, read in libpq's text format. Freed with the last reference.
final class PostgresResult {
    let handle: OpaquePointer

    init(_ handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        PQclear(handle)
    }

    var rows: [PostgresRow] {
        (0..<PQntuples(handle)).map { PostgresRow(result: self, index: $0) }
    }

    var first: PostgresRow? { PQntuples(handle) > 0 ? PostgresRow(result: self, index: 0) : nil }

    /// Rows an INSERT, UPDATE or DELETE touched.
    var affectedRows: Int { Int(String(cString: PQcmdTuples(handle))) ?? 0 }
}

/// One row; columns are read by name and converted from their text form.
struct PostgresRow {
    let result: PostgresResult
    let index: Int32

    func optionalString(_ column: String) throws -> String? {
        let field = PQfnumber(result.handle, column)
        guard field >= 0 else { throw StoreError.invalid("the database returned no column \(column)") }
        if PQgetisnull(result.handle, index, field) == 1 { return nil }
        return String(cString: PQgetvalue(result.handle, index, field))
    }

    func string(_ column: String) throws -> String {
        guard let value = try optionalString(column) else { throw StoreError.invalid("column \(column) is NULL in the database") }
        return value
    }

    func optionalInt64(_ column: String) throws -> Int64? {
        try optionalString(column).map { text in
            guard let value = Int64(text) else { throw StoreError.invalid("column \(column) holds '\(text)', not an integer") }
            return value
        }
    }

    func int64(_ column: String) throws -> Int64 {
        guard let value = try optionalInt64(column) else { throw StoreError.invalid("column \(column) is NULL in the database") }
        return value
    }

    func optionalInt(_ column: String) throws -> Int? { try optionalInt64(column).map(Int.init) }

    func int(_ column: String) throws -> Int { Int(try int64(column)) }

    func double(_ column: String) throws -> Double {
        let text = try string(column)
        guard let value = Double(text) else { throw StoreError.invalid("column \(column) holds '\(text)', not a number") }
        return value
    }

    func bool(_ column: String) throws -> Bool { try string(column) == "t" }

    /// bytea arrives as `\x` and hex digits; libpq turns it back into bytes.
    func optionalData(_ column: String) throws -> Data? {
        guard let text = try optionalString(column) else { return nil }
        var length = 0
        guard let bytes = PQunescapeBytea(text, &length) else { throw StoreError.invalid("column \(column) is not bytea") }
        defer { PQfreemem(bytes) }
        return Data(bytes: bytes, count: length)
    }

    func data(_ column: String) throws -> Data {
        guard let value = try optionalData(column) else { throw StoreError.invalid("column \(column) is NULL in the database") }
        return value
    }
}
