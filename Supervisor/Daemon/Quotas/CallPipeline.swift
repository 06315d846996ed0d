import Foundation
import Hummingbird
import Policy
import Store

/// Steps 2, 3 and 8 of every call around the work itself: the policy decides
/// (with the tenant's usage in its input), the meter reserves, the call runs,
/// and the meter settles whatever happened, before the client is answered.
struct CallPipeline: Sendable {
    let gate: CallGate
    let meter: Meter

    enum Start: Sendable {
        case run(Meter.Ticket)
        /// Held for approval (202) or an idempotent replay: answer this.
        case answered(Response)
    }

    func start(tenant: Tenant, tool: String, args: [String: Value], limits: EffectiveLimits, requestID: String,
               idempotencyKey: String?, egress: Bool = false, deferred: () throws -> DeferredCall) async throws -> Start {
        // The counters are read for the policy only when a rule can look at them.
        let usage = gate.engine.readsUsage ? try await meter.usage(of: tenant, limits: limits) : [:]
        let audited: Task<Void, any Error>
        switch try await gate.admit(tenant: tenant, tool: tool, args: args, usage: usage, requestID: requestID,
                                    deferred: deferred) {
        case .held(let response): return .answered(response)
        case .allowed(let task): audited = task
        }
        // The reservation and the decision's audit record are written at once (one commit when they meet).
        let reservation: Meter.Reservation
        do {
            reservation = try await meter.reserve(tenant: tenant, tool: tool, requestID: requestID,
                                                  idempotencyKey: idempotencyKey, limits: limits, egress: egress)
        } catch {
            _ = try? await audited.value
            throw error
        }
        do {
            try await audited.value
        } catch {
            if case .reserved(let ticket) = reservation {
                try? await meter.settle(ticket, Meter.Outcome(status: "audit_unavailable", httpStatus: 503, ran: false))
            }
            throw error
        }
        switch reservation {
        case .reserved(let ticket):
            if !ticket.warnings.isEmpty { await gate.recordWarnings(ticket.warnings, tenant: tenant, tool: tool, requestID: requestID) }
            return .run(ticket)
        case .replay(let response):
            return .answered(response)
        }
    }

    /// `Warden-Quota-Warning` headers for soft limits the call passed.
    static func warningHeaders(_ ticket: Meter.Ticket) -> HTTPFields {
        var headers: HTTPFields = [:]
        for w in ticket.warnings {
            headers.append(HTTPFields.Element(name: HTTPFields.Element.Name("Warden-Quota-Warning")!,
                                     value: "\(w.metric); used=\(Self.number(w.used)); limit=\(Self.number(w.limit))"))
        }
        return headers
    }

    static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
