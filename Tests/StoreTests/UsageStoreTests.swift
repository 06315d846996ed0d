import Foundation
import Testing
@testable import Store

@Suite("Store: plans, reservations and the usage ledger")
struct UsageStoreTests {
    let day = PeriodWindow(.day, containing: Date(timeIntervalSince1970: 1_790_000_000), timeZone: "UTC")

    func charge(_ metric: String = "exec.calls.day", amount: Double = 1, limit: Double? = 10, hard: Bool = true) -> Charge {
        Charge(metric: metric, periodStart: day.start, periodEnd: day.end, amount: amount,
               limit: limit.map { Limit($0, hard: hard) })
    }

    func request(_ tenant: Tenant, key: String = RandomID.string(length: 8), charges: [Charge],
                 concurrent: Limit? = nil) -> ReservationRequest {
        ReservationRequest(id: "res_" + RandomID.string(length: 12), tenantID: tenant.id, tool: "exec",
                           requestID: "req_" + key, idempotencyKey: key, at: day.start.addingTimeInterval(60),
                           charges: charges, concurrentLimit: concurrent)
    }

    func settle(_ id: String, ran: Bool = true, measured: [Charge] = []) -> Settlement {
        Settlement(reservationID: id, endedAt: day.start.addingTimeInterval(61), status: ran ? "ok" : "worker_unavailable",
                   httpStatus: ran ? 200 : 503, figures: CallFigures(cpuMs: 12, wallMs: 30), ran: ran,
                   measured: measured, decision: "allow", response: Data(#"{"status":"ok"}"#.utf8))
    }

    @Test(arguments: Backend.all)
    func aHundredConcurrentReservationsAgainstALimitOfTenLetExactlyTenThrough(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let tenant = try await store.createTenant(name: "racer", plan: "free")
            let outcomes = await withTaskGroup(of: ReservationOutcome?.self) { group in
                for _ in 0..<100 {
                    group.addTask { try? await store.reserve(request(tenant, charges: [charge()])) }
                }
                return await group.reduce(into: [ReservationOutcome?]()) { $0.append($1) }
            }
            let reserved = outcomes.filter { if case .reserved = $0 { return true }; return false }.count
            let refused = outcomes.compactMap { outcome -> QuotaExceeded? in
                if case .exceeded(let e)? = outcome { return e }
                return nil
            }
            #expect(reserved == 10)
            #expect(refused.count == 90)
            #expect(refused.allSatisfy { $0.metric == "exec.calls.day" && $0.limit == 10 && $0.used == 10 && $0.resetsAt == day.end })
        }
    }

    @Test(arguments: Backend.all)
    func concurrentCallsAreCountedByOpenReservations(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let tenant = try await store.createTenant(name: "juggler", plan: "free")
            let two = Limit(2)
            let first = request(tenant, charges: [], concurrent: two)
            #expect(try await store.reserve(first) == .reserved(warnings: []))
            #expect(try await store.reserve(request(tenant, charges: [], concurrent: two)) == .reserved(warnings: []))
            let third = try await store.reserve(request(tenant, charges: [], concurrent: two))
            #expect(third == .exceeded(QuotaExceeded(metric: "concurrent.calls", limit: 2, used: 2, resetsAt: nil)))
            let gauge = try await store.counters(tenantID: tenant.id, [("concurrent.calls", nil)])
            #expect(gauge.map(\.used) == [2], "the gauge counts the tenant's open reservations")
            try await store.settle(settle(first.id))
            #expect(try await store.reserve(request(tenant, charges: [], concurrent: two)) == .reserved(warnings: []))
        }
    }

    @Test(arguments: Backend.all)
    func settlingCountsWhatRanAndReleasesWhatDidNot(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let tenant = try await store.createTenant(name: "counter", plan: "free")
            let ran = request(tenant, charges: [charge()])
            let failed = request(tenant, charges: [charge()])
            _ = try await store.reserve(ran)
            _ = try await store.reserve(failed)
            let cpu = Charge(metric: "cpu.seconds.month", periodStart: day.start, periodEnd: day.end, amount: 0.012, limit: nil)
            try await store.settle(settle(ran.id, measured: [cpu]))
            try await store.settle(settle(failed.id, ran: false))

            let values = try await store.counters(tenantID: tenant.id, [("exec.calls.day", day.start), ("cpu.seconds.month", day.start)])
            #expect(values[0].used == 1 && values[0].reserved == 0)
            #expect(abs(values[1].used - 0.012) < 1e-9)
            let ledger = try await store.ledger(LedgerQuery(tenantID: tenant.id))
            #expect(ledger.map(\.status) == ["ok", "worker_unavailable"])
            #expect(ledger[0].figures.cpuMs == 12 && ledger[0].requestID == ran.requestID)
            #expect(ledger.allSatisfy { $0.response == nil }, "listings leave out the stored responses")
            #expect(try await store.openReservations().isEmpty)
            await #expect(throws: StoreError.self) { try await store.settle(settle(ran.id)) }
        }
    }

    @Test(arguments: Backend.all)
    func aRetriedIdempotencyKeyIsNeverCountedTwice(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let tenant = try await store.createTenant(name: "retrier", plan: "free")
            let first = request(tenant, key: "same", charges: [charge()])
            _ = try await store.reserve(first)
            #expect(try await store.reserve(request(tenant, key: "same", charges: [charge()])) == .inProgress)
            try await store.settle(settle(first.id))
            guard case .duplicate(let record) = try await store.reserve(request(tenant, key: "same", charges: [charge()])) else {
                Issue.record("a settled key must come back as a duplicate")
                return
            }
            #expect(record.requestID == first.requestID && record.response == Data(#"{"status":"ok"}"#.utf8))
            let used = try await store.counters(tenantID: tenant.id, [("exec.calls.day", day.start)])[0].used
            #expect(used == 1)
            // Another tenant's identical key is its own.
            let other = try await store.createTenant(name: "other", plan: "free")
            #expect(try await store.reserve(request(other, key: "same", charges: [charge()])) == .reserved(warnings: []))
        }
    }

    @Test(arguments: Backend.all)
    func softLimitsWarnAndThresholdsAreReportedOnce(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let tenant = try await store.createTenant(name: "soft", plan: "free")
            var crossings: [ThresholdCrossing] = []
            var warnings: [QuotaWarning] = []
            for _ in 0..<6 {
                let r = request(tenant, charges: [charge(limit: 5, hard: false)])
                if case .reserved(let w) = try await store.reserve(r) { warnings += w }
                crossings += try await store.settle(settle(r.id))
            }
            #expect(crossings.map(\.threshold) == [0.8, 1.0])
            #expect(crossings.map(\.used) == [4, 5])
            #expect(warnings == [QuotaWarning(metric: "exec.calls.day", limit: 5, used: 6)])
        }
    }

    @Test(arguments: Backend.all)
    func periodsKeepTheirOwnCounts(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let tenant = try await store.createTenant(name: "roller", plan: "free")
            let next = PeriodWindow(.day, containing: day.end.addingTimeInterval(1), timeZone: "UTC")
            #expect(next.start == day.end)
            let today = request(tenant, charges: [charge(limit: 1)])
            _ = try await store.reserve(today)
            try await store.settle(settle(today.id))
            #expect(try await store.reserve(request(tenant, charges: [charge(limit: 1)])) != .reserved(warnings: []))
            let tomorrow = Charge(metric: "exec.calls.day", periodStart: next.start, periodEnd: next.end, amount: 1, limit: Limit(1))
            #expect(try await store.reserve(request(tenant, charges: [tomorrow])) == .reserved(warnings: []))
        }
    }

    @Test func periodsFollowThePlansTimeZone() {
        let instant = ISO8601DateFormatter().date(from: "2026-03-01T02:30:00Z")!
        let utc = PeriodWindow(.month, containing: instant, timeZone: "UTC")
        let newYork = PeriodWindow(.month, containing: instant, timeZone: "America/New_York")
        #expect(ISO8601DateFormatter().string(from: utc.start) == "2026-03-01T00:00:00Z")
        #expect(ISO8601DateFormatter().string(from: newYork.start) == "2026-02-01T05:00:00Z")
        #expect(ISO8601DateFormatter().string(from: newYork.end) == "2026-03-01T05:00:00Z")
    }

    @Test(arguments: Backend.all)
    func badPlansAreRefusedWithClearErrors(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            #expect(try await store.listPlans().map(\.name) == ["creator", "free", "pro"])
            func plan(_ limits: [String: Limit], tools: [String] = ["exec"], zone: String = "UTC") -> Plan {
                Plan(name: "custom", tools: tools, network: false, timeZone: zone, limits: limits)
            }
            await #expect(throws: StoreError.invalid("the limit of exec.calls.day must be a finite number ≥ 0, got -1.0")) {
                _ = try await store.createPlan(plan(["exec.calls.day": Limit(-1)]))
            }
            await #expect { _ = try await store.createPlan(plan(["exec.callz.day": Limit(1)])) } throws: { error in
                "\(error)".contains("unknown metric 'exec.callz.day'")
            }
            await #expect { _ = try await store.createPlan(plan([:], tools: ["teleport"])) } throws: { error in
                "\(error)".contains("unknown tool 'teleport'")
            }
            await #expect { _ = try await store.createPlan(plan([:], zone: "Mars/Olympus")) } throws: { error in
                "\(error)".contains("unknown time zone")
            }
            await #expect { _ = try await store.createPlan(plan(["call.timeout_ms": Limit(5, hard: false)])) } throws: { error in
                "\(error)".contains("only be a hard limit")
            }
            let created = try await store.createPlan(plan(["exec.calls.day": Limit(3)]))
            #expect(try await store.plan(named: "custom") == created)
            await #expect(throws: StoreError.conflict("a plan named 'custom' already exists")) { _ = try await store.createPlan(created) }

            let tenant = try await store.createTenant(name: "planned", plan: "custom")
            await #expect { try await store.deletePlan(named: "custom") } throws: { error in
                "\(error)".contains("used by 1 tenant")
            }
            await #expect { _ = try await store.createTenant(name: "nowhere", plan: "gold") } throws: { error in
                "\(error)".contains("unknown plan 'gold'")
            }
            #expect(try await store.setTenantPlan(id: tenant.id, plan: "pro").plan == "pro")
            try await store.deletePlan(named: "custom")
            #expect(try await store.plan(named: "custom") == nil)

            try await store.setTenantLimit(tenantID: tenant.id, metric: "exec.calls.day", limit: Limit(7, hard: false))
            #expect(try await store.tenantLimits(tenantID: tenant.id) == ["exec.calls.day": Limit(7, hard: false)])
            try await store.setTenantLimit(tenantID: tenant.id, metric: "exec.calls.day", limit: nil)
            #expect(try await store.tenantLimits(tenantID: tenant.id).isEmpty)
        }
    }

    @Test(arguments: Backend.all)
    func aFailingWriteInABatchRollsBackAloneAndTheOthersCommit(_ backend: Backend) async throws {
        try await withStore(backend) { store in
            let tenant = try await store.createTenant(name: "batched", plan: "free")
            var reservations: [ReservationRequest] = []
            for _ in 0..<25 {
                let r = request(tenant, charges: [charge(limit: nil)])
                _ = try await store.reserve(r)
                reservations.append(r)
            }
            let settled = reservations
            let results = await withTaskGroup(of: Bool.self) { group in
                for r in settled { group.addTask { (try? await store.settle(settle(r.id))) != nil } }
                for i in 0..<25 { group.addTask { (try? await store.settle(settle("res_missing_\(i)"))) != nil } }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 25)
            #expect(try await store.ledger(LedgerQuery(tenantID: tenant.id)).count == 25)
            #expect(try await store.counters(tenantID: tenant.id, [("exec.calls.day", day.start)])[0].used == 25)
            #expect(try await store.openReservations().isEmpty)
        }
    }
}
