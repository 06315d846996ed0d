import Foundation

/// A value bound to a `$n` parameter. Everything travels as text except
/// bytea, which goes as raw bytes; each names its type so the server never
/// has to guess from the context.
enum PostgresValue {
    case text(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case bytes(Data)
    case null

    /// The parameter's type OID (0 lets the server infer it, for NULL).
    var typeOID: UInt32 {
        switch self {
        case .text: return 25
        case .int: return 20
        case .double: return 701
        case .bool: return 16
        case .bytes: return 17
        case .null: return 0
        }
    }
}

/// Swift values that bind to a parameter as they are.
protocol PostgresBindable: Sendable {
    var postgresValue: PostgresValue { get }
}

extension String: PostgresBindable { var postgresValue: PostgresValue { .text(self) } }
extension Int64: PostgresBindable { var postgresValue: PostgresValue { .int(self) } }
extension Int: PostgresBindable { var postgresValue: PostgresValue { .int(Int64(self)) } }
extension Double: PostgresBindable { var postgresValue: PostgresValue { .double(self) } }
extension Bool: PostgresBindable { var postgresValue: PostgresValue { .bool(self) } }
extension Data: PostgresBindable { var postgresValue: PostgresValue { .bytes(self) } }
extension Optional: PostgresBindable where Wrapped: PostgresBindable {
    var postgresValue: PostgresValue { self?.postgresValue ?? .null }
}
