/// The version reported by `/v1/health`, the admin API and `warden --version`.
public enum WardenVersion {
    public static let current = "0.1.0-dev"
    /// What this build can do; grows as tools land.
    public static let features = ["tenants", "api_keys", "admin_socket", "exec", "files", "policy", "approvals", "audit",
                                  "plans", "quotas", "usage", "metrics", "alerts", "postgresql_store", "browser"]
}
