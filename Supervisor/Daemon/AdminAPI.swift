import Foundation
import Store

/// The admin API's request and response bodies, shared by the daemon and
/// `AdminClient` so the two cannot drift apart.
public enum AdminAPI {
    public struct CreateTenant: Codable, Sendable {
        public var name: String
        public var plan: String?

        public init(name: String, plan: String? = nil) {
            self.name = name
            self.plan = plan
        }
    }

    public struct TenantList: Codable, Sendable {
        public var tenants: [Tenant]
        public init(tenants: [Tenant]) { self.tenants = tenants }
    }

    public struct KeyList: Codable, Sendable {
        public var keys: [APIKey]
        public init(keys: [APIKey]) { self.keys = keys }
    }

    /// What `POST /v1/tenants/{tenant}/keys` answers: the token appears here only.
    public struct IssuedKeyResponse: Codable, Sendable {
        public var key: APIKey
        public var token: String
        public var tenant: Tenant
    }

    public struct Status: Codable, Sendable {
        public var version: String
        public var pid: Int32
        public var stateDirectory: String
        public var httpAddress: String
        public var startedAt: Date

        enum CodingKeys: String, CodingKey {
            case version, pid
            case stateDirectory = "state_dir"
            case httpAddress = "http_address"
            case startedAt = "started_at"
        }
    }
}

extension AdminAPI {
    public struct WorkerList: Codable, Sendable {
        public var workers: [WorkerManager.Status]
        public init(workers: [WorkerManager.Status]) { self.workers = workers }
    }

    public struct WorkerAction: Codable, Sendable {
        public var tenantID: String
        public var action: String

        enum CodingKeys: String, CodingKey {
            case action
            case tenantID = "tenant_id"
        }
    }
}

extension AdminAPI {
    public struct AuditList: Codable, Sendable {
        public var records: [AuditRecord]
        public init(records: [AuditRecord]) { self.records = records }
    }

    public struct ApprovalList: Codable, Sendable {
        public var approvals: [ApprovalView]
        public init(approvals: [ApprovalView]) { self.approvals = approvals }
    }

    /// The operator's optional note on an approval or denial.
    public struct DecideApproval: Codable, Sendable {
        public var note: String?
        public init(note: String?) { self.note = note }
    }
}

extension AdminAPI {
    public struct PlanList: Codable, Sendable {
        public var plans: [Plan]
        public init(plans: [Plan]) { self.plans = plans }
    }

    public struct SetPlan: Codable, Sendable {
        public var plan: String
        public init(plan: String) { self.plan = plan }
    }

    public struct TenantLimits: Codable, Sendable {
        public var tenantID: String
        public var limits: [String: Limit]

        enum CodingKeys: String, CodingKey {
            case limits
            case tenantID = "tenant_id"
        }
    }
}
