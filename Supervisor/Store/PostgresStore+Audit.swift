import Foundation

extension PostgresStore {
    @discardableResult
    public func appendAudit(_ records: [AuditRecord]) async throws -> [AuditRecord] {
        guard !records.isEmpty else { return [] }
        return try await write { connection in
            // Appends one transaction at a time, so ids increase in commit order.
            try connection.execute("SELECT pg_advisory_xact_lock($1)", [PostgresLocks.auditAppend])
            return try records.map { record in
                var stored = record
                let row = try connection.execute("""
                    INSERT INTO audit_log (time, event, tenant_id, tool, input_digest, decision, reasons, request_id, actor)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
                    """, [Self.milliseconds(record.time), record.event, record.tenantID, record.tool, record.inputDigest,
                          record.decision, try Self.encodeReasons(record.reasons), record.requestID, record.actor]).first
                stored.id = try row?.int64("id") ?? 0
                stored.time = Self.date(Self.milliseconds(record.time))
                return stored
            }
        }
    }

    public func auditRecords(_ query: AuditQuery) async throws -> [AuditRecord] {
        var filter = PostgresFilter()
        if let tenantID = query.tenantID { filter.add("tenant_id =", tenantID) }
        if let since = query.since { filter.add("time >=", Self.milliseconds(since)) }
        if let until = query.until { filter.add("time <", Self.milliseconds(until)) }
        if let afterID = query.afterID { filter.add("id >", afterID) }
        let limit = filter.bind(max(0, query.limit))
        let sql = "SELECT * FROM (SELECT * FROM audit_log \(filter.whereClause) ORDER BY id DESC LIMIT \(limit)) AS newest ORDER BY id"
        let parameters = filter.parameters
        return try await read { connection in
            try connection.execute(sql, parameters).rows.map { row in
                AuditRecord(id: try row.int64("id"), time: Self.date(try row.int64("time")), event: try row.string("event"),
                            tenantID: try row.optionalString("tenant_id"), tool: try row.optionalString("tool"),
                            inputDigest: try row.optionalString("input_digest"), decision: try row.string("decision"),
                            reasons: try Self.decodeReasons(try row.string("reasons")),
                            requestID: try row.optionalString("request_id"), actor: try row.optionalString("actor"))
            }
        }
    }
}
