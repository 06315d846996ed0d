import Foundation
import GRDB

extension SQLiteStore {
    public func createApproval(_ approval: Approval) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO approvals (id, tenant_id, tool, status, request_id, reasons, call, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [approval.id, approval.tenantID, approval.tool, approval.status.rawValue, approval.requestID,
                            try Self.encodeReasons(approval.reasons), approval.call,
                            Self.milliseconds(approval.createdAt), Self.milliseconds(approval.expiresAt)])
        }
    }

    public func approval(id: String) async throws -> Approval? {
        try await pool.read { db in try Self.fetchApproval(db, id: id) }
    }

    public func listApprovals(tenantID: String?, status: ApprovalStatus?, limit: Int) async throws -> [Approval] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let tenantID { conditions.append("tenant_id = ?"); _ = arguments.append(contentsOf: [tenantID]) }
        if let status { conditions.append("status = ?"); _ = arguments.append(contentsOf: [status.rawValue]) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let bound = arguments
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM approvals \(filter) ORDER BY created_at DESC, rowid DESC LIMIT \(max(0, limit))",
                             arguments: bound).map(Self.approval(from:))
        }
    }

    public func transitionApproval(id: String, _ transition: ApprovalTransition) async throws -> Approval {
        try await pool.write { db in
            guard let current = try Self.fetchApproval(db, id: id) else {
                throw StoreError.notFound("no approval with id \(id)")
            }
            let approval = try current.applying(transition)
            try db.execute(
                sql: """
                    UPDATE approvals SET status = ?, decided_at = ?, decided_by = ?, decision_note = ?,
                                         result_status = ?, result = ?
                    WHERE id = ?
                    """,
                arguments: [approval.status.rawValue, approval.decidedAt.map(Self.milliseconds), approval.decidedBy,
                            approval.decisionNote, approval.resultStatus, approval.result, id])
            return approval
        }
    }

    private static func fetchApproval(_ db: Database, id: String) throws -> Approval? {
        try Row.fetchOne(db, sql: "SELECT * FROM approvals WHERE id = ?", arguments: [id]).map(approval(from:))
    }

    private static func approval(from row: Row) throws -> Approval {
        let rawStatus: String = row["status"]
        guard let status = ApprovalStatus(rawValue: rawStatus) else {
            throw StoreError.invalid("approval \(row["id"] as String) has an unknown status '\(rawStatus)' in the database")
        }
        return Approval(id: row["id"], tenantID: row["tenant_id"], tool: row["tool"], status: status,
                        requestID: row["request_id"], reasons: try decodeReasons(row["reasons"]), call: row["call"],
                        createdAt: date(row["created_at"]), expiresAt: date(row["expires_at"]),
                        decidedAt: (row["decided_at"] as Int64?).map(date), decidedBy: row["decided_by"],
                        decisionNote: row["decision_note"], resultStatus: row["result_status"], result: row["result"])
    }
}
