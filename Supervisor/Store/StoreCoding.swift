import Foundation

/// How every back end writes values SQL has no type for: times as integer
/// milliseconds since the Unix epoch, lists and plans as JSON text. One
/// definition, so a record written by one back end reads the same in another.
extension Store {
    /// Millisecond precision, built the same way `date(_:)` builds it from a
    /// row, so a record returned on creation equals the one read back later.
    static func now() -> Date {
        date(milliseconds(Date()))
    }

    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    static func encodeReasons(_ reasons: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(reasons), as: UTF8.self)
    }

    static func decodeReasons(_ text: String) throws -> [String] {
        do {
            return try JSONDecoder().decode([String].self, from: Data(text.utf8))
        } catch {
            throw StoreError.invalid("a stored list of reasons is not a JSON array of strings: \(text.prefix(80))")
        }
    }

    /// The stored form of a plan: everything but its name and times.
    static func planSpec(_ plan: Plan) throws -> String {
        let spec = StoredPlanSpec(tools: plan.tools, network: plan.network, approvalTools: plan.approvalTools,
                                  timeZone: plan.timeZone, limits: plan.limits)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(spec), as: UTF8.self)
    }

    static func plan(name: String, spec text: String, createdAt: Int64, updatedAt: Int64) throws -> Plan {
        guard let spec = try? JSONDecoder().decode(StoredPlanSpec.self, from: Data(text.utf8)) else {
            throw StoreError.invalid("plan \(name) is stored in a form this Warden cannot read")
        }
        return Plan(name: name, tools: spec.tools, network: spec.network, approvalTools: spec.approvalTools,
                    timeZone: spec.timeZone, limits: spec.limits, createdAt: date(createdAt), updatedAt: date(updatedAt))
    }

    static func encodeCharges(_ charges: [Charge]) throws -> String {
        String(decoding: try JSONEncoder().encode(charges), as: UTF8.self)
    }

    static func decodeCharges(_ text: String) throws -> [Charge] {
        guard let charges = try? JSONDecoder().decode([Charge].self, from: Data(text.utf8)) else {
            throw StoreError.invalid("a reservation's charges are stored in a form this Warden cannot read")
        }
        return charges
    }
}

/// A plan's JSON column.
struct StoredPlanSpec: Codable {
    var tools: [String]
    var network: Bool
    var approvalTools: [String]
    var timeZone: String
    var limits: [String: Limit]
}
