import Foundation

extension PostgresStore {
    /// Gauges have no period; their row uses this start.
    static let gaugePeriod: Int64 = 0

    /// Reserve and settle of one tenant run one at a time, on every node: the
    /// advisory lock lasts until the transaction ends. Under it, the checks and
    /// the writes see no other change to the tenant's counters.
    private static func lockUsage(_ connection: PostgresConnection, tenantID: String) throws {
        try connection.execute("SELECT pg_advisory_xact_lock(\(PostgresLocks.usageClass), hashtext($1))", [tenantID])
    }

    public func reserve(_ request: ReservationRequest) async throws -> ReservationOutcome {
        let charges = try Self.encodeCharges(request.charges)
        return try await write { connection in
            try Self.lockUsage(connection, tenantID: request.tenantID)
            if let row = try connection.execute("SELECT * FROM usage_ledger WHERE tenant_id = $1 AND idempotency_key = $2",
                                                [request.tenantID, request.idempotencyKey]).first {
                return .duplicate(try Self.ledgerRecord(from: row))
            }
            let reservations = try connection.execute("""
                SELECT COUNT(*) AS open, COUNT(*) FILTER (WHERE idempotency_key = $2) AS same
                FROM reservations WHERE tenant_id = $1
                """, [request.tenantID, request.idempotencyKey]).first
            if try reservations?.int("same") ?? 0 > 0 { return .inProgress }
            let outcome = try QuotaRules.check(request, openReservations: try reservations?.int("open") ?? 0) { charge in
                let counter = try Self.counter(connection, request.tenantID, charge.metric, charge.periodStart)
                return counter.used + counter.reserved
            }
            guard case .reserved = outcome else { return outcome }
            for charge in request.charges where charge.amount != 0 {
                try Self.add(connection, request.tenantID, charge.metric, charge.periodStart, used: 0, reserved: charge.amount)
            }
            try connection.execute("""
                INSERT INTO reservations (id, tenant_id, tool, request_id, idempotency_key, started_at, charges, node_id)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, [request.id, request.tenantID, request.tool, request.requestID, request.idempotencyKey,
                      Self.milliseconds(request.at), charges, request.nodeID])
            return outcome
        }
    }

    @discardableResult
    public func settle(_ settlement: Settlement) async throws -> [ThresholdCrossing] {
        try await write { connection in
            // Deleting claims the reservation: a second settle of it finds nothing.
            guard let row = try connection.execute("DELETE FROM reservations WHERE id = $1 RETURNING *",
                                                    [settlement.reservationID]).first else {
                throw StoreError.notFound("no open reservation \(settlement.reservationID)")
            }
            let tenantID = try row.string("tenant_id")
            try Self.lockUsage(connection, tenantID: tenantID)
            var crossings: [ThresholdCrossing] = []
            func count(_ charge: Charge, used: Double, reserved: Double) throws {
                let before = try Self.counter(connection, tenantID, charge.metric, charge.periodStart).used
                try Self.add(connection, tenantID, charge.metric, charge.periodStart, used: used, reserved: reserved)
                crossings += QuotaRules.crossings(tenantID: tenantID, charge, before: before, used: used)
            }
            for charge in try Self.decodeCharges(try row.string("charges")) where charge.amount != 0 {
                try count(charge, used: settlement.ran ? charge.amount : 0, reserved: -charge.amount)
            }
            for charge in settlement.measured where charge.amount != 0 {
                try count(charge, used: charge.amount, reserved: 0)
            }
            let f = settlement.figures
            try connection.execute("""
                INSERT INTO usage_ledger (tenant_id, tool, request_id, idempotency_key, started_at, ended_at, status,
                                          http_status, cpu_ms, wall_ms, memory_peak_bytes, bytes_in, bytes_out,
                                          egress_bytes, decision, response)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                """, [tenantID, try row.string("tool"), try row.string("request_id"), try row.string("idempotency_key"),
                      try row.int64("started_at"), Self.milliseconds(settlement.endedAt), settlement.status,
                      settlement.httpStatus, f.cpuMs, f.wallMs, f.memoryPeakBytes, f.bytesIn, f.bytesOut, f.egressBytes,
                      settlement.decision, settlement.response])
            return crossings
        }
    }

    public func openReservations() async throws -> [OpenReservation] {
        try await read { connection in
            try connection.execute("SELECT * FROM reservations ORDER BY started_at", []).rows.map { row in
                OpenReservation(id: try row.string("id"), tenantID: try row.string("tenant_id"), tool: try row.string("tool"),
                                requestID: try row.string("request_id"), startedAt: Self.date(try row.int64("started_at")),
                                nodeID: try row.optionalString("node_id"))
            }
        }
    }

    public func counters(tenantID: String, _ keys: [(metric: String, periodStart: Date?)]) async throws -> [CounterValue] {
        let wanted = keys.map { CounterValue(metric: $0.metric, periodStart: $0.periodStart, used: 0, reserved: 0) }
        return try await read { connection in
            try wanted.map { key in
                var value = key
                if key.metric == Metric.concurrentCalls {
                    // A gauge of the tenant's open reservations, as the SQLite store counts it.
                    let row = try connection.execute("SELECT COUNT(*) AS open FROM reservations WHERE tenant_id = $1",
                                                     [tenantID]).first
                    value.used = Double(try row?.int64("open") ?? 0)
                    return value
                }
                (value.used, value.reserved) = try Self.counter(connection, tenantID, key.metric, key.periodStart)
                return value
            }
        }
    }

    public func setGauge(tenantID: String, metric: String, value: Double) async throws {
        try await read { connection in
            _ = try connection.execute("""
                INSERT INTO usage_counters (tenant_id, metric, period_start, used) VALUES ($1, $2, $3, $4)
                ON CONFLICT (tenant_id, metric, period_start) DO UPDATE SET used = excluded.used
                """, [tenantID, metric, Self.gaugePeriod, value])
        }
    }

    public func ledger(_ query: LedgerQuery) async throws -> [LedgerRecord] {
        var filter = PostgresFilter()
        if let tenantID = query.tenantID { filter.add("tenant_id =", tenantID) }
        if let since = query.since { filter.add("ended_at >=", Self.milliseconds(since)) }
        if let until = query.until { filter.add("ended_at <", Self.milliseconds(until)) }
        let sql = "SELECT * FROM usage_ledger \(filter.whereClause) ORDER BY id LIMIT \(filter.bind(max(0, query.limit)))"
        let parameters = filter.parameters
        return try await read { connection in
            try connection.execute(sql, parameters).rows.map { row in
                var record = try Self.ledgerRecord(from: row)
                record.response = nil
                return record
            }
        }
    }

    // MARK: Rows

    private static func counter(_ connection: PostgresConnection, _ tenantID: String, _ metric: String,
                                _ periodStart: Date?) throws -> (used: Double, reserved: Double) {
        let row = try connection.execute("""
            SELECT used, reserved FROM usage_counters WHERE tenant_id = $1 AND metric = $2 AND period_start = $3
            """, [tenantID, metric, periodStart.map(milliseconds) ?? gaugePeriod]).first
        return (try row?.double("used") ?? 0, try row?.double("reserved") ?? 0)
    }

    private static func add(_ connection: PostgresConnection, _ tenantID: String, _ metric: String, _ periodStart: Date?,
                            used: Double, reserved: Double) throws {
        try connection.execute("""
            INSERT INTO usage_counters (tenant_id, metric, period_start, used, reserved) VALUES ($1, $2, $3, $4, GREATEST(0, $5))
            ON CONFLICT (tenant_id, metric, period_start)
            DO UPDATE SET used = usage_counters.used + $4, reserved = GREATEST(0, usage_counters.reserved + $5)
            """, [tenantID, metric, periodStart.map(milliseconds) ?? gaugePeriod, used, reserved])
    }

    private static func ledgerRecord(from row: PostgresRow) throws -> LedgerRecord {
        LedgerRecord(id: try row.int64("id"), tenantID: try row.string("tenant_id"), tool: try row.string("tool"),
                     requestID: try row.string("request_id"), idempotencyKey: try row.string("idempotency_key"),
                     startedAt: date(try row.int64("started_at")), endedAt: date(try row.int64("ended_at")),
                     status: try row.string("status"), httpStatus: try row.int("http_status"),
                     figures: CallFigures(cpuMs: try row.int64("cpu_ms"), wallMs: try row.int64("wall_ms"),
                                          memoryPeakBytes: try row.int64("memory_peak_bytes"), bytesIn: try row.int64("bytes_in"),
                                          bytesOut: try row.int64("bytes_out"), egressBytes: try row.int64("egress_bytes")),
                     decision: try row.string("decision"), response: try row.optionalData("response"))
    }
}
