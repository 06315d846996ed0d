import Foundation
import Policy
import Store

/// The input of `data.warden.decision` (DESIGN.md): who calls, which tool,
/// with what arguments, what they used so far, and when.
enum DecisionInput {
    static func make(tenant: Tenant, tool: String, args: [String: Value], usage: [String: Value] = [:],
                     now: Date = Date()) -> Value {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let weekday = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][calendar.component(.weekday, from: now) - 1]
        // Microsecond precision is what a Date holds; Int64 nanoseconds last until 2262.
        let nanoseconds = Int((now.timeIntervalSince1970 * 1_000_000).rounded()) * 1000
        return .object(RegoObject([
            "tenant": .object(RegoObject([
                "id": .string(tenant.id), "name": .string(tenant.name),
                "plan": .string(tenant.plan), "status": .string(tenant.status.rawValue),
            ])),
            "tool": .string(tool),
            "args": .object(RegoObject(args)),
            "usage": .object(RegoObject(usage)),
            "time": .object(RegoObject([
                "now_ns": Value(nanoseconds), "weekday": .string(weekday),
                "hour": Value(calendar.component(.hour, from: now)),
            ])),
        ]))
    }
}
