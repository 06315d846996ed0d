import Foundation
import NIOCore
import Policy
import Store

/// Whether one proxy connection may be made, decided like a call: the name
/// is resolved, the address it resolved to is classified, the policy decides
/// `net.connect` (and the decision is in the audit log before anything is
/// sent), and the tenant's egress quota must not be used up. The proxy then
/// connects to exactly the address that was judged.
struct EgressGate: Sendable {
    static let tool = "net.connect"

    let gate: CallGate
    let meter: Meter

    enum Verdict: Sendable {
        case connect(SocketAddress, budget: EgressBudget?)
        case refuse(APIError)
    }

    func decide(_ target: ProxyTarget, session: EgressSession) async -> Verdict {
        let tenant = session.tenant
        let address: SocketAddress
        do {
            guard let first = try await HostResolver.resolve(target.host, port: target.port).first else {
                return .refuse(APIError(.badGateway, code: "unresolvable_host", message: "\(target.host) resolves to no address"))
            }
            address = first
        } catch let failure as HostResolver.Failure {
            return .refuse(APIError(.badGateway, code: "unresolvable_host", message: failure.message))
        } catch {
            return .refuse(APIError(.badGateway, code: "unresolvable_host", message: "\(target.host) could not be resolved: \(error)"))
        }
        let addressClass = HostResolver.classify(address)
        do {
            let limits = try await meter.limits(for: tenant)
            let usage = gate.engine.readsUsage ? try await meter.usage(of: tenant, limits: limits) : [:]
            let admission = try await gate.admit(tenant: tenant, tool: Self.tool,
                                                 args: Self.policyArgs(target, address: address, addressClass, via: session.via),
                                                 usage: usage, requestID: session.requestID) {
                throw APIError.forbidden(code: "policy_denied", "a connection cannot wait for an operator's approval; the policy holds net.connect to \(target.host)")
            }
            guard case .allowed(let audited) = admission else {
                return .refuse(APIError.forbidden(code: "policy_denied", "the policy holds net.connect to \(target.host) for approval"))
            }
            try await audited.value
            var budget: EgressBudget?
            if let standing = try await meter.egressStanding(of: tenant, limits: limits) {
                let live = Double(session.account.liveBytes.load(ordering: .relaxed))
                if standing.used + live >= standing.limit {
                    var over = standing
                    over.used += live
                    meter.metrics.quotaRefused(metric: Metric.egressBytes)
                    return .refuse(Meter.quotaError(over, now: meter.now()))
                }
                budget = EgressBudget(limit: standing.limit, stored: standing.used, account: session.account)
            }
            return .connect(address, budget: budget)
        } catch let error as APIError {
            return .refuse(error)
        } catch {
            return .refuse(APIError.unavailable(code: "store_unavailable", "the connection could not be decided: \(error)"))
        }
    }

    /// What the policy sees of a connection: `args.ip` is the address the proxy
    /// would connect to, `args.private` whether it is anything but public.
    static func policyArgs(_ target: ProxyTarget, address: SocketAddress, _ addressClass: AddressClass,
                           via: String) -> [String: Value] {
        var args: [String: Value] = [
            "host": .string(target.host), "port": Value(target.port), "ip": .string(address.ipAddress ?? ""),
            "private": .bool(!addressClass.isPublic), "address_class": .string(addressClass.rawValue),
            "scheme": .string(target.kind.rawValue), "method": .string(target.method), "via": .string(via),
        ]
        if let url = target.url { args["url"] = .string(url) }
        return args
    }
}

/// What is left of the tenant's hard egress limit: the store's count when the
/// connection was decided, plus what every open session of the tenant has
/// moved since (live, shared by its concurrent connections).
struct EgressBudget: Sendable {
    let limit: Double
    let stored: Double
    let account: TenantEgress

    var isExhausted: Bool { stored + Double(account.liveBytes.load(ordering: .relaxed)) >= limit }
}
