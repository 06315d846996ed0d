import Foundation
import GRDB

extension SQLiteStore {
    /// Gauges have no period; their row uses this start.
    static let gaugePeriod: Int64 = 0

    public func reserve(_ request: ReservationRequest) async throws -> ReservationOutcome {
        let charges = try Self.encodeCharges(request.charges)
        return try await batcher.write { db in
            if let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM usage_ledger WHERE tenant_id = ? AND idempotency_key = ?"),
                                          arguments: [request.tenantID, request.idempotencyKey]) {
                return .duplicate(try Self.ledgerRecord(from: row))
            }
            let open = try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM reservations WHERE tenant_id = ?"),
                                        arguments: [request.tenantID]) ?? 0
            if try Int.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM reservations WHERE tenant_id = ? AND idempotency_key = ?"),
                                arguments: [request.tenantID, request.idempotencyKey]) != nil {
                return .inProgress
            }
            let outcome = try QuotaRules.check(request, openReservations: open) { charge in
                let counter = try Self.counter(db, request.tenantID, charge.metric, charge.periodStart)
                return counter.used + counter.reserved
            }
            guard case .reserved = outcome else { return outcome }
            for charge in request.charges where charge.amount != 0 {
                try Self.add(db, request.tenantID, charge.metric, charge.periodStart, used: 0, reserved: charge.amount)
            }
            try db.cachedStatement(sql: """
                INSERT INTO reservations (id, tenant_id, tool, request_id, idempotency_key, started_at, charges, node_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [request.id, request.tenantID, request.tool, request.requestID, request.idempotencyKey,
                                 Self.milliseconds(request.at), charges, request.nodeID])
            return outcome
        }
    }

    @discardableResult
    public func settle(_ settlement: Settlement) async throws -> [ThresholdCrossing] {
        try await batcher.write { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM reservations WHERE id = ?"),
                                             arguments: [settlement.reservationID]) else {
                throw StoreError.notFound("no open reservation \(settlement.reservationID)")
            }
            let tenantID: String = row["tenant_id"]
            var crossings: [ThresholdCrossing] = []
            func count(_ charge: Charge, used: Double, reserved: Double) throws {
                let before = try Self.counter(db, tenantID, charge.metric, charge.periodStart).used
                try Self.add(db, tenantID, charge.metric, charge.periodStart, used: used, reserved: reserved)
                crossings += QuotaRules.crossings(tenantID: tenantID, charge, before: before, used: used)
            }
            for charge in try Self.decodeCharges(row["charges"]) where charge.amount != 0 {
                try count(charge, used: settlement.ran ? charge.amount : 0, reserved: -charge.amount)
            }
            for charge in settlement.measured where charge.amount != 0 {
                try count(charge, used: charge.amount, reserved: 0)
            }
            let f = settlement.figures
            try db.cachedStatement(sql: """
                INSERT INTO usage_ledger (tenant_id, tool, request_id, idempotency_key, started_at, ended_at, status,
                                          http_status, cpu_ms, wall_ms, memory_peak_bytes, bytes_in, bytes_out,
                                          egress_bytes, decision, response)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [tenantID, row["tool"] as String, row["request_id"] as String,
                                 row["idempotency_key"] as String, row["started_at"] as Int64,
                                 Self.milliseconds(settlement.endedAt), settlement.status, settlement.httpStatus,
                                 f.cpuMs, f.wallMs, f.memoryPeakBytes, f.bytesIn, f.bytesOut, f.egressBytes,
                                 settlement.decision, settlement.response])
            try db.cachedStatement(sql: "DELETE FROM reservations WHERE id = ?").execute(arguments: [settlement.reservationID])
            return crossings
        }
    }

    public func openReservations() async throws -> [OpenReservation] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM reservations ORDER BY started_at").map { row in
                OpenReservation(id: row["id"], tenantID: row["tenant_id"], tool: row["tool"], requestID: row["request_id"],
                                startedAt: Self.date(row["started_at"]), nodeID: row["node_id"])
            }
        }
    }

    public func counters(tenantID: String, _ keys: [(metric: String, periodStart: Date?)]) async throws -> [CounterValue] {
        let wanted = keys.map { ($0.metric, $0.periodStart) }
        return try await pool.read { db in
            try wanted.map { metric, start in
                if metric == Metric.concurrentCalls {
                    let open = try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM reservations WHERE tenant_id = ?"),
                                                arguments: [tenantID]) ?? 0
                    return CounterValue(metric: metric, periodStart: nil, used: Double(open), reserved: 0)
                }
                let value = try Self.counter(db, tenantID, metric, start)
                return CounterValue(metric: metric, periodStart: start, used: value.used, reserved: value.reserved)
            }
        }
    }

    public func setGauge(tenantID: String, metric: String, value: Double) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO usage_counters (tenant_id, metric, period_start, used) VALUES (?, ?, ?, ?)
                ON CONFLICT (tenant_id, metric, period_start) DO UPDATE SET used = excluded.used
                """, arguments: [tenantID, metric, Self.gaugePeriod, value])
        }
    }

    public func ledger(_ query: LedgerQuery) async throws -> [LedgerRecord] {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let tenantID = query.tenantID { conditions.append("tenant_id = ?"); _ = arguments.append(contentsOf: [tenantID]) }
        if let since = query.since { conditions.append("ended_at >= ?"); _ = arguments.append(contentsOf: [Self.milliseconds(since)]) }
        if let until = query.until { conditions.append("ended_at < ?"); _ = arguments.append(contentsOf: [Self.milliseconds(until)]) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = "SELECT * FROM usage_ledger \(filter) ORDER BY id LIMIT \(max(0, query.limit))"
        let bound = arguments
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: bound).map { row in
                var record = try Self.ledgerRecord(from: row)
                record.response = nil
                return record
            }
        }
    }

    // MARK: Rows

    static func counter(_ db: Database, _ tenantID: String, _ metric: String,
                        _ periodStart: Date?) throws -> (used: Double, reserved: Double) {
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT used, reserved FROM usage_counters WHERE tenant_id = ? AND metric = ? AND period_start = ?"),
            arguments: [tenantID, metric, periodStart.map(milliseconds) ?? gaugePeriod])
        return (row?["used"] ?? 0, row?["reserved"] ?? 0)
    }

    static func add(_ db: Database, _ tenantID: String, _ metric: String, _ periodStart: Date?,
                    used: Double, reserved: Double) throws {
        let key: StatementArguments = [tenantID, metric, periodStart.map(milliseconds) ?? gaugePeriod]
        try db.cachedStatement(sql: """
            UPDATE usage_counters SET used = used + ?, reserved = MAX(0, reserved + ?)
            WHERE tenant_id = ? AND metric = ? AND period_start = ?
            """).execute(arguments: [used, reserved] + key)
        if db.changesCount == 0 {
            try db.cachedStatement(sql: """
                INSERT INTO usage_counters (tenant_id, metric, period_start, used, reserved) VALUES (?, ?, ?, ?, ?)
                """).execute(arguments: key + [used, max(0, reserved)])
        }
    }

    static func ledgerRecord(from row: Row) throws -> LedgerRecord {
        LedgerRecord(id: row["id"], tenantID: row["tenant_id"], tool: row["tool"], requestID: row["request_id"],
                     idempotencyKey: row["idempotency_key"], startedAt: date(row["started_at"]),
                     endedAt: date(row["ended_at"]), status: row["status"], httpStatus: row["http_status"],
                     figures: CallFigures(cpuMs: row["cpu_ms"], wallMs: row["wall_ms"],
                                          memoryPeakBytes: row["memory_peak_bytes"], bytesIn: row["bytes_in"],
                                          bytesOut: row["bytes_out"], egressBytes: row["egress_bytes"]),
                     decision: row["decision"], response: row["response"])
    }
}
