import Foundation
import NIOCore
import Store

/// Typed calls to a running daemon's admin API over its Unix socket, used by
/// the operator CLI and the tests.
public struct AdminClient: Sendable {
    public let socketPath: String
    public let timeout: Duration

    public init(stateDirectory: String, timeout: Duration = .seconds(30)) {
        socketPath = StateLayout(root: stateDirectory).adminSocket
        self.timeout = timeout
    }

    public func status() async throws -> AdminAPI.Status {
        try await call("GET", "/v1/status")
    }

    public func createTenant(name: String, plan: String?) async throws -> Tenant {
        try await call("POST", "/v1/tenants", body: AdminAPI.CreateTenant(name: name, plan: plan))
    }

    public func listTenants(includeDeleted: Bool = false) async throws -> [Tenant] {
        let list: AdminAPI.TenantList = try await call("GET", "/v1/tenants" + (includeDeleted ? "?all=true" : ""))
        return list.tenants
    }

    public func tenant(_ reference: String) async throws -> Tenant {
        try await call("GET", "/v1/tenants/\(try Self.pathSegment(reference))")
    }

    public func suspendTenant(_ reference: String) async throws -> Tenant {
        try await call("POST", "/v1/tenants/\(try Self.pathSegment(reference))/suspend")
    }

    public func resumeTenant(_ reference: String) async throws -> Tenant {
        try await call("POST", "/v1/tenants/\(try Self.pathSegment(reference))/resume")
    }

    public func deleteTenant(_ reference: String) async throws -> Tenant {
        try await call("DELETE", "/v1/tenants/\(try Self.pathSegment(reference))")
    }

    public func issueKey(for reference: String) async throws -> AdminAPI.IssuedKeyResponse {
        try await call("POST", "/v1/tenants/\(try Self.pathSegment(reference))/keys")
    }

    public func listKeys(of reference: String?) async throws -> [APIKey] {
        let path = try reference.map { "/v1/tenants/\(try Self.pathSegment($0))/keys" } ?? "/v1/keys"
        let list: AdminAPI.KeyList = try await call("GET", path)
        return list.keys
    }

    public func revokeKey(_ keyID: String) async throws -> APIKey {
        try await call("DELETE", "/v1/keys/\(try Self.pathSegment(keyID))")
    }

    // MARK: Transport

    public func workers() async throws -> [WorkerManager.Status] {
        let list: AdminAPI.WorkerList = try await call("GET", "/v1/workers")
        return list.workers
    }

    public func killWorker(_ reference: String) async throws -> AdminAPI.WorkerAction {
        try await call("POST", "/v1/workers/\(try Self.pathSegment(reference))/kill")
    }

    public func restartWorker(_ reference: String) async throws -> AdminAPI.WorkerAction {
        try await call("POST", "/v1/workers/\(try Self.pathSegment(reference))/restart")
    }

    public func nodes() async throws -> AdminAPI.NodeList {
        try await call("GET", "/v1/nodes")
    }

    /// Removes a dead or departed node from the store.
    public func forgetNode(_ id: String) async throws -> NodeRecord {
        try await call("DELETE", "/v1/nodes/\(try Self.pathSegment(id))")
    }

    public func leases() async throws -> [TenantLease] {
        let list: AdminAPI.LeaseList = try await call("GET", "/v1/leases")
        return list.leases
    }

    public func policy() async throws -> PolicyEngine.Summary {
        try await call("GET", "/v1/policy")
    }

    /// Reloads the daemon's policies; `.refused` with code `policy_invalid` names each broken file:line.
    public func reloadPolicy() async throws -> PolicyEngine.Summary {
        try await call("POST", "/v1/policy/reload")
    }

    public func audit(_ query: AuditQuery, tenant: String? = nil) async throws -> [AuditRecord] {
        var items = [URLQueryItem(name: "limit", value: String(query.limit))]
        if let tenant { items.append(URLQueryItem(name: "tenant", value: tenant)) }
        if let since = query.since { items.append(URLQueryItem(name: "since", value: RFC3339.format(since))) }
        if let until = query.until { items.append(URLQueryItem(name: "until", value: RFC3339.format(until))) }
        if let afterID = query.afterID { items.append(URLQueryItem(name: "after_id", value: String(afterID))) }
        let list: AdminAPI.AuditList = try await call("GET", "/v1/audit" + Self.queryString(items))
        return list.records
    }

    public func approvals(status: ApprovalStatus? = nil, tenant: String? = nil, limit: Int = 100) async throws -> [ApprovalView] {
        var items = [URLQueryItem(name: "limit", value: String(limit))]
        if let status { items.append(URLQueryItem(name: "status", value: status.rawValue)) }
        if let tenant { items.append(URLQueryItem(name: "tenant", value: tenant)) }
        let list: AdminAPI.ApprovalList = try await call("GET", "/v1/approvals" + Self.queryString(items))
        return list.approvals
    }

    public func approval(_ id: String) async throws -> ApprovalView {
        try await call("GET", "/v1/approvals/\(try Self.pathSegment(id))")
    }

    public func approve(_ id: String, note: String? = nil) async throws -> ApprovalView {
        try await call("POST", "/v1/approvals/\(try Self.pathSegment(id))/approve", body: AdminAPI.DecideApproval(note: note))
    }

    public func deny(_ id: String, note: String? = nil) async throws -> ApprovalView {
        try await call("POST", "/v1/approvals/\(try Self.pathSegment(id))/deny", body: AdminAPI.DecideApproval(note: note))
    }

    // MARK: Plans and usage

    public func plans() async throws -> [Plan] {
        let list: AdminAPI.PlanList = try await call("GET", "/v1/plans")
        return list.plans
    }

    public func plan(_ name: String) async throws -> Plan {
        try await call("GET", "/v1/plans/\(try Self.pathSegment(name))")
    }

    public func createPlan(_ plan: Plan) async throws -> Plan {
        try await call("POST", "/v1/plans", body: plan)
    }

    public func updatePlan(_ plan: Plan) async throws -> Plan {
        try await call("PUT", "/v1/plans/\(try Self.pathSegment(plan.name))", body: plan)
    }

    public func deletePlan(_ name: String) async throws {
        let _: Empty = try await call("DELETE", "/v1/plans/\(try Self.pathSegment(name))")
    }

    public func setPlan(of tenant: String, to plan: String) async throws -> Tenant {
        try await call("POST", "/v1/tenants/\(try Self.pathSegment(tenant))/plan", body: AdminAPI.SetPlan(plan: plan))
    }

    public func tenantLimits(_ tenant: String) async throws -> AdminAPI.TenantLimits {
        try await call("GET", "/v1/tenants/\(try Self.pathSegment(tenant))/limits")
    }

    /// Sets an override, or with nil goes back to the plan's limit.
    public func setTenantLimit(_ tenant: String, metric: String, limit: Limit?) async throws -> AdminAPI.TenantLimits {
        let path = "/v1/tenants/\(try Self.pathSegment(tenant))/limits/\(try Self.pathSegment(metric))"
        if let limit { return try await call("PUT", path, body: limit) }
        return try await call("DELETE", path)
    }

    public func quota(_ tenant: String) async throws -> QuotaReport {
        try await call("GET", "/v1/tenants/\(try Self.pathSegment(tenant))/quota")
    }

    public func usage(tenant: String? = nil, since: Date? = nil, until: Date? = nil,
                      by: UsageReport.Grouping = .day) async throws -> UsageReport {
        var items = [URLQueryItem(name: "by", value: by.rawValue)]
        if let tenant { items.append(URLQueryItem(name: "tenant", value: tenant)) }
        if let since { items.append(URLQueryItem(name: "since", value: RFC3339.format(since))) }
        if let until { items.append(URLQueryItem(name: "until", value: RFC3339.format(until))) }
        return try await call("GET", "/v1/usage" + Self.queryString(items))
    }

    /// The SVG chart of one tenant's metric over the last `days` days.
    public func usageChart(_ tenant: String, metric: String, days: Int) async throws -> Data {
        let query = Self.queryString([URLQueryItem(name: "metric", value: metric), URLQueryItem(name: "days", value: String(days))])
        let raw: RawBody = try await call("GET", "/v1/tenants/\(try Self.pathSegment(tenant))/usage-chart" + query)
        return raw.data
    }

    /// A body kept as bytes (not JSON).
    private struct RawBody: Decodable {
        var data: Data
    }

    /// What a 204 decodes to.
    private struct Empty: Decodable {}

    static func queryString(_ items: [URLQueryItem]) -> String {
        var components = URLComponents()
        components.queryItems = items
        // '+' would read as a space on the other side.
        return "?" + (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
    }

    private func call<Value: Decodable>(_ method: String, _ path: String) async throws -> Value {
        try await call(method, path, bodyData: nil)
    }

    private func call<Value: Decodable>(_ method: String, _ path: String, body: some Encodable) async throws -> Value {
        try await call(method, path, bodyData: try JSONCoding.encoder.encode(body))
    }

    private func call<Value: Decodable>(_ method: String, _ path: String, bodyData: Data?) async throws -> Value {
        guard FileManager.default.fileExists(atPath: socketPath) else {
            throw AdminClientError.daemonNotRunning(socketPath: socketPath, reason: "the socket does not exist")
        }
        let response: LocalHTTPClient.Response
        do {
            response = try await LocalHTTPClient.send(
                method, path, to: .unixSocket(path: socketPath),
                headers: bodyData == nil ? [] : [("Content-Type", "application/json")],
                body: bodyData, timeout: timeout)
        } catch let error as IOError where error.errnoCode == EACCES || error.errnoCode == EPERM {
            throw AdminClientError.permissionDenied(socketPath: socketPath)
        } catch let error as IOError where error.errnoCode == ECONNREFUSED || error.errnoCode == ENOENT {
            throw AdminClientError.daemonNotRunning(socketPath: socketPath, reason: "nothing is listening on the socket")
        }
        guard (200..<300).contains(response.status) else {
            let body = try? JSONCoding.decoder.decode(APIErrorBody.self, from: response.body)
            throw AdminClientError.refused(status: response.status, code: body?.error.code ?? "http_\(response.status)",
                                           message: body?.error.message ?? String(decoding: response.body, as: UTF8.self))
        }
        if response.body.isEmpty, let empty = Empty() as? Value { return empty }
        if let raw = RawBody(data: response.body) as? Value { return raw }
        do {
            return try JSONCoding.decoder.decode(Value.self, from: response.body)
        } catch {
            throw AdminClientError.unreadableAnswer("\(error)")
        }
    }

    /// Ids and names never need escaping, but a stray '/' or '?' must not
    /// reach another endpoint.
    private static func pathSegment(_ value: String) throws -> String {
        guard let encoded = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-_."))),
              !value.isEmpty
        else { throw AdminClientError.refused(status: 400, code: "invalid_argument", message: "empty name or id") }
        return encoded
    }

    private struct APIErrorBody: Decodable {
        var error: Detail
        struct Detail: Decodable {
            var code: String
            var message: String
        }
    }
}

public enum AdminClientError: Error, CustomStringConvertible, Equatable {
    case daemonNotRunning(socketPath: String, reason: String)
    case permissionDenied(socketPath: String)
    case refused(status: Int, code: String, message: String)
    case unreadableAnswer(String)

    public var description: String {
        switch self {
        case .daemonNotRunning(let socketPath, let reason):
            let stateDirectory = (socketPath as NSString).deletingLastPathComponent
            return "cannot reach the warden daemon at \(socketPath) (\(reason)); "
                + "start it with `warden serve --state-dir \(stateDirectory)` or pass the --state-dir it uses"
        case .permissionDenied(let socketPath):
            return "permission denied on \(socketPath): run as root or as the user that runs warden serve"
        case .refused(_, let code, let message):
            return "\(message) (\(code))"
        case .unreadableAnswer(let detail):
            return "the daemon's answer could not be read: \(detail)"
        }
    }
}
