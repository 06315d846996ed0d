import Foundation
import GRDB

extension SQLiteStore {
    @discardableResult
    public func appendAudit(_ records: [AuditRecord]) async throws -> [AuditRecord] {
        guard !records.isEmpty else { return [] }
        // Through the batcher: a call's decision and its reservation share a commit.
        return try await batcher.write { db in
            try records.map { record in
                var stored = record
                try db.execute(
                    sql: """
                        INSERT INTO audit_log (time, event, tenant_id, tool, input_digest, decision, reasons,
                                               request_id, actor)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [Self.milliseconds(record.time), record.event, record.tenantID, record.tool,
                                record.inputDigest, record.decision, try Self.encodeReasons(record.reasons),
                                record.requestID, record.actor])
                stored.id = db.lastInsertedRowID
                stored.time = Self.date(Self.milliseconds(record.time))
                return stored
            }
        }
    }

    public func auditRecords(_ query: AuditQuery) async throws -> [AuditRecord] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let tenantID = query.tenantID { conditions.append("tenant_id = ?"); _ = arguments.append(contentsOf: [tenantID]) }
        if let since = query.since { conditions.append("time >= ?"); _ = arguments.append(contentsOf: [Self.milliseconds(since)]) }
        if let until = query.until { conditions.append("time < ?"); _ = arguments.append(contentsOf: [Self.milliseconds(until)]) }
        if let afterID = query.afterID { conditions.append("id > ?"); _ = arguments.append(contentsOf: [afterID]) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let limit = max(0, query.limit)
        let sql = "SELECT * FROM (SELECT * FROM audit_log \(filter) ORDER BY id DESC LIMIT \(limit)) ORDER BY id"
        let bound = arguments
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: bound).map { row in
                AuditRecord(id: row["id"], time: Self.date(row["time"]), event: row["event"], tenantID: row["tenant_id"],
                            tool: row["tool"], inputDigest: row["input_digest"], decision: row["decision"],
                            reasons: try Self.decodeReasons(row["reasons"]), requestID: row["request_id"],
                            actor: row["actor"])
            }
        }
    }
}
