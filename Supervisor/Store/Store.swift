import Foundation

/// The system of record: tenants, API keys, the audit log and approvals.
///
/// Every back end (SQLite, PostgreSQL) implements this protocol; the
/// rules that do not depend on SQL (status transitions, key format, id
/// allocation policy) live in shared types so the back ends cannot disagree.
public protocol Store: Sendable {
    /// `sqlite` or `postgresql`: what health checks and `warden doctor` show.
    var backend: String { get }

    /// A cheap round trip that proves the store answers; health checks use it.
    func ping() async throws

    /// Creates an active tenant with a fresh, non-overlapping host id range.
    /// Throws `StoreError.conflict` when a live tenant already has `name`.
    func createTenant(name: String, plan: String) async throws -> Tenant

    func tenant(id: String) async throws -> Tenant?

    /// The live (not deleted) tenant with this name.
    func tenant(named name: String) async throws -> Tenant?

    /// Tenants in creation order.
    func listTenants(includeDeleted: Bool) async throws -> [Tenant]

    /// Moves a tenant to `status` following `TenantStatus.canChange(to:)`.
    /// Moving to `.deleted` also revokes every key of the tenant, atomically.
    func setTenantStatus(id: String, to status: TenantStatus) async throws -> Tenant

    /// Issues a key for a tenant that is not deleted. The returned token is the
    /// only copy of the secret: the store keeps its SHA-256 hash.
    func issueKey(tenantID: String) async throws -> IssuedKey

    func apiKey(id: String) async throws -> APIKey?

    /// Keys of one tenant, or of all tenants when `tenantID` is nil, oldest first.
    func listKeys(tenantID: String?) async throws -> [APIKey]

    /// Revokes a key; revoking a revoked key returns it unchanged.
    func revokeKey(id: String) async throws -> APIKey

    /// Resolves a bearer token to its key and tenant, or nil when the token is
    /// malformed, unknown or revoked. The tenant may be suspended or deleted:
    /// callers decide what that means for the request.
    func authenticate(token: String) async throws -> Authentication?

    // MARK: Audit log

    /// Appends records in one transaction and returns them with their ids.
    @discardableResult
    func appendAudit(_ records: [AuditRecord]) async throws -> [AuditRecord]

    /// The newest records matching the query (at most `limit`), oldest first.
    func auditRecords(_ query: AuditQuery) async throws -> [AuditRecord]

    // MARK: Approvals

    func createApproval(_ approval: Approval) async throws

    func approval(id: String) async throws -> Approval?

    /// Approvals, newest first, optionally of one tenant and in one status.
    func listApprovals(tenantID: String?, status: ApprovalStatus?, limit: Int) async throws -> [Approval]

    /// Moves an approval to `transition.to` only if it is still in one of
    /// `transition.from`, atomically: two operators approving at once run the
    /// call once. Throws `.conflict` naming the current status otherwise.
    func transitionApproval(id: String, _ transition: ApprovalTransition) async throws -> Approval

    // MARK: Plans

    /// Plans by name.
    func listPlans() async throws -> [Plan]

    func plan(named name: String) async throws -> Plan?

    /// Creates a plan; `.conflict` when the name is taken, `.invalid` when it does not validate.
    func createPlan(_ plan: Plan) async throws -> Plan

    /// Replaces a plan's tools and limits; `.notFound` when it does not exist.
    func updatePlan(_ plan: Plan) async throws -> Plan

    /// Deletes a plan no live tenant uses (`.conflict` otherwise).
    func deletePlan(named name: String) async throws

    /// Moves a tenant to another existing plan.
    func setTenantPlan(id: String, plan: String) async throws -> Tenant

    /// The tenant's own limits, replacing its plan's for those metrics.
    func tenantLimits(tenantID: String) async throws -> [String: Limit]

    /// Sets (or with nil removes) one override of a tenant's limits.
    func setTenantLimit(tenantID: String, metric: String, limit: Limit?) async throws

    // MARK: Usage

    /// Checks every limit and holds the call's counts, atomically: concurrent
    /// reservations against a limit of N let exactly N through.
    func reserve(_ request: ReservationRequest) async throws -> ReservationOutcome

    /// Releases a reservation, counts what the call used and appends its ledger
    /// record in one transaction; returns the limits whose 80 % or 100 % it crossed.
    @discardableResult
    func settle(_ settlement: Settlement) async throws -> [ThresholdCrossing]

    /// Reservations not settled yet (after a crash: calls cut off mid-way).
    func openReservations() async throws -> [OpenReservation]

    /// Counter values of one tenant for the given metrics and periods (nil period: a gauge;
    /// `concurrent.calls` counts the tenant's open reservations).
    func counters(tenantID: String, _ keys: [(metric: String, periodStart: Date?)]) async throws -> [CounterValue]

    /// Sets a gauge (`storage.bytes`) to what was measured.
    func setGauge(tenantID: String, metric: String, value: Double) async throws

    /// Ledger records, oldest first.
    func ledger(_ query: LedgerQuery) async throws -> [LedgerRecord]

    // MARK: Nodes and tenant leases

    /// Records a starting node; `.stillLive` when another process heartbeated
    /// under the same id within its TTL (unless `takeOver`).
    func registerNode(_ registration: NodeRegistration) async throws -> NodeRegistrationOutcome

    /// Refreshes the node's row and renews those of the named leases it still
    /// holds unexpired, atomically. Throws `.conflict` when another process
    /// registered under the node's id since: its leases are no longer its own.
    func heartbeat(_ beat: NodeHeartbeat) async throws -> [RenewedLease]

    /// A graceful stop: releases every lease of the node and marks it left.
    func leaveNode(id: String, incarnation: String) async throws

    /// Every node the store knows, by id, with its state and load.
    func listNodes() async throws -> [NodeRecord]

    /// Removes a node that is dead or left (and any lease still under its
    /// name); returns it as it was. `.notFound` for an unknown id, `.conflict`
    /// for a live node: only its own graceful stop, or its death, ends it.
    func forgetNode(id: String) async throws -> NodeRecord

    /// Takes the tenant's lease for `nodeID` for `ttlMs`, atomically: when no
    /// one holds it, it has expired, or the node holds it already (a renewal).
    /// Otherwise answers who holds it.
    func acquireLease(tenantID: String, nodeID: String, ttlMs: Int64) async throws -> LeaseOutcome

    /// Gives the lease up if `nodeID` holds it; nothing otherwise.
    func releaseLease(tenantID: String, nodeID: String) async throws

    /// Every lease row, expired ones included, by tenant.
    func listLeases() async throws -> [TenantLease]

    func close() async throws
}

extension Store {
    /// Marks the key of `found` used now, unless its mark is less than a
    /// minute old: authenticating must not turn every API call into a write.
    /// `write(keyID, milliseconds)` stores the mark.
    func markingUsed(_ found: Authentication?,
                     write: @escaping @Sendable (String, Int64) async throws -> Void) async throws -> Authentication? {
        guard var authentication = found else { return nil }
        let now = Self.now()
        if authentication.key.lastUsedAt.map({ now.timeIntervalSince($0) >= 60 }) ?? true {
            try await write(authentication.key.id, Self.milliseconds(now))
            authentication.key.lastUsedAt = now
        }
        return authentication
    }
}

/// What a valid token resolves to.
public struct Authentication: Sendable, Equatable {
    public var key: APIKey
    public var tenant: Tenant

    public init(key: APIKey, tenant: Tenant) {
        self.key = key
        self.tenant = tenant
    }
}
