import Foundation
import Logging
import Store
#if canImport(Glibc)
import Glibc
#endif

/// Tenant and key operations of the admin API: the store plus what lives on
/// disk (the workspace). Workers hook in here next (stop on suspend/delete).
public struct TenantService: Sendable {
    let store: any Store
    let layout: StateLayout
    let rootMode: Bool
    let logger: Logger
    /// Stops a tenant's worker when the tenant is suspended or deleted.
    var workers: WorkerManager?

    /// In root mode the jailed payload runs as this offset into the tenant's
    /// host id range, so its workspace belongs to that uid.
    public static let payloadIDOffset: Int64 = 1000

    public init(store: any Store, layout: StateLayout, rootMode: Bool = geteuid() == 0, logger: Logger) {
        self.store = store
        self.layout = layout
        self.rootMode = rootMode
        self.logger = logger
    }

    /// Operators name tenants by id (`t_…`) or by name.
    public func resolve(_ reference: String) async throws -> Tenant {
        let found = reference.hasPrefix(Tenant.idPrefix)
            ? try await store.tenant(id: reference)
            : try await store.tenant(named: reference)
        guard let tenant = found else { throw StoreError.notFound("no tenant '\(reference)'") }
        return tenant
    }

    public func create(name: String, plan: String?) async throws -> Tenant {
        let tenant = try await store.createTenant(name: name, plan: plan ?? Tenant.defaultPlan)
        do {
            try Self.makeWorkspace(for: tenant, layout: layout, rootMode: rootMode)
        } catch {
            // A tenant without a workspace cannot run anything: take it back.
            _ = try? await store.setTenantStatus(id: tenant.id, to: .deleted)
            logger.error("workspace creation failed", metadata: ["tenant_id": "\(tenant.id)", "error": "\(error)"])
            throw error
        }
        logger.info("tenant created", metadata: ["tenant_id": "\(tenant.id)", "name": "\(tenant.name)"])
        return tenant
    }

    public func setStatus(_ reference: String, to status: TenantStatus) async throws -> Tenant {
        let tenant = try await resolve(reference)
        let updated = try await store.setTenantStatus(id: tenant.id, to: status)
        if status != .active { await workers?.stop(tenant.id, graceMs: 0, tenantStatus: status) }
        if status == .deleted {
            Self.removeTenantDirectory(tenant.id, layout: layout, logger: logger)
        }
        logger.info("tenant status changed", metadata: ["tenant_id": "\(tenant.id)", "status": "\(status.rawValue)"])
        return updated
    }

    public func issueKey(_ reference: String) async throws -> AdminAPI.IssuedKeyResponse {
        let tenant = try await resolve(reference)
        let issued = try await store.issueKey(tenantID: tenant.id)
        logger.info("api key issued", metadata: ["tenant_id": "\(tenant.id)", "key_id": "\(issued.key.id)"])
        return AdminAPI.IssuedKeyResponse(key: issued.key, token: issued.token, tenant: tenant)
    }

    public func listKeys(_ reference: String?) async throws -> [APIKey] {
        guard let reference else { return try await store.listKeys(tenantID: nil) }
        return try await store.listKeys(tenantID: try await resolve(reference).id)
    }

    public func revokeKey(_ keyID: String) async throws -> APIKey {
        let key = try await store.revokeKey(id: keyID)
        logger.info("api key revoked", metadata: ["tenant_id": "\(key.tenantID)", "key_id": "\(key.id)"])
        return key
    }

    // MARK: Disk

    /// The tenant's directory and empty workspace: made when the tenant is
    /// created, and by any other node the first time it runs the tenant.
    static func makeWorkspace(for tenant: Tenant, layout: StateLayout, rootMode: Bool) throws {
        let tenantDirectory = layout.tenantDirectory(tenant.id)
        let workspace = layout.workspace(tenant.id)
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        try setMode(0o711, tenantDirectory)
        try setMode(0o700, workspace)
        if rootMode {
            let owner = tenant.hostIDBase + Self.payloadIDOffset
            guard chown(workspace, uid_t(owner), gid_t(owner)) == 0 else {
                throw POSIXFailure("cannot give \(workspace) to uid \(owner)")
            }
        }
    }

    /// Best effort: the tenant is already deleted in the store, which is what
    /// stops its calls; a leftover directory is logged, not fatal.
    static func removeTenantDirectory(_ tenantID: String, layout: StateLayout, logger: Logger) {
        let directory = layout.tenantDirectory(tenantID)
        guard FileManager.default.fileExists(atPath: directory) else { return }
        do {
            try FileManager.default.removeItem(atPath: directory)
        } catch {
            logger.error("could not remove tenant directory",
                         metadata: ["tenant_id": "\(tenantID)", "path": "\(directory)", "error": "\(error)"])
        }
    }
}
