import Foundation

extension PostgresStore {
    public func createApproval(_ approval: Approval) async throws {
        try await read { connection in
            _ = try connection.execute("""
                INSERT INTO approvals (id, tenant_id, tool, status, request_id, reasons, call, created_at, expires_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                """, [approval.id, approval.tenantID, approval.tool, approval.status.rawValue, approval.requestID,
                      try Self.encodeReasons(approval.reasons), approval.call, Self.milliseconds(approval.createdAt),
                      Self.milliseconds(approval.expiresAt)])
        }
    }

    public func approval(id: String) async throws -> Approval? {
        try await read { connection in try Self.fetchApproval(connection, id: id) }
    }

    public func listApprovals(tenantID: String?, status: ApprovalStatus?, limit: Int) async throws -> [Approval] {
        var filter = PostgresFilter()
        if let tenantID { filter.add("tenant_id =", tenantID) }
        if let status { filter.add("status =", status.rawValue) }
        let sql = "SELECT * FROM approvals \(filter.whereClause) ORDER BY created_at DESC, seq DESC LIMIT \(filter.bind(max(0, limit)))"
        let parameters = filter.parameters
        return try await read { connection in try connection.execute(sql, parameters).rows.map(Self.approval(from:)) }
    }

    public func transitionApproval(id: String, _ transition: ApprovalTransition) async throws -> Approval {
        try await write { connection in
            // The row lock makes the check and the change one step: one of two deciders wins.
            guard let current = try Self.fetchApproval(connection, id: id, forUpdate: true) else {
                throw StoreError.notFound("no approval with id \(id)")
            }
            let approval = try current.applying(transition)
            try connection.execute("""
                UPDATE approvals SET status = $1, decided_at = $2, decided_by = $3, decision_note = $4,
                                     result_status = $5, result = $6
                WHERE id = $7
                """, [approval.status.rawValue, approval.decidedAt.map(Self.milliseconds), approval.decidedBy,
                      approval.decisionNote, approval.resultStatus, approval.result, id])
            return approval
        }
    }

    private static func fetchApproval(_ connection: PostgresConnection, id: String, forUpdate: Bool = false) throws -> Approval? {
        try connection.execute("SELECT * FROM approvals WHERE id = $1" + (forUpdate ? " FOR UPDATE" : ""), [id])
            .first.map(approval(from:))
    }

    private static func approval(from row: PostgresRow) throws -> Approval {
        let rawStatus = try row.string("status")
        guard let status = ApprovalStatus(rawValue: rawStatus) else {
            throw StoreError.invalid("approval \(try row.string("id")) has an unknown status '\(rawStatus)' in the database")
        }
        return Approval(id: try row.string("id"), tenantID: try row.string("tenant_id"), tool: try row.string("tool"),
                        status: status, requestID: try row.string("request_id"),
                        reasons: try decodeReasons(try row.string("reasons")), call: try row.data("call"),
                        createdAt: date(try row.int64("created_at")), expiresAt: date(try row.int64("expires_at")),
                        decidedAt: try row.optionalInt64("decided_at").map(date), decidedBy: try row.optionalString("decided_by"),
                        decisionNote: try row.optionalString("decision_note"), resultStatus: try row.optionalInt("result_status"),
                        result: try row.optionalData("result"))
    }
}
