import ArgumentParser
import Foundation
import Store

/// `warden quota bench`: what reserve + settle cost per call, at a given
/// concurrency, on a throwaway SQLite file or in a PostgreSQL database.
struct QuotaBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure reserve + settle per call on a throwaway store (median, p99, calls/s).",
        discussion: """
            With --store postgres://… (or a libpq string) the bench runs in that database: it creates \
            bench-N tenants there (use a throwaway database) and adds to its ledger.
            """)

    @Option(help: "Calls in flight at once (default 1).") var concurrency = 1
    @Option(help: "Calls measured (default 5000).") var calls = 5000
    @Option(help: "Tenants the calls are spread over (default 100).") var tenants = 100
    @Option(help: "sqlite (a throwaway file, default), or a PostgreSQL URI or libpq string.") var store = "sqlite"
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-quota-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store: any Store
        switch try StoreLocation(parsing: self.store) {
        case .sqlite: store = try SQLiteStore(path: directory + "/warden.db")
        case .postgres(let connection): store = try await PostgresStore.open(connection: connection)
        }
        // Names of this run's own: an earlier run in the same database keeps its tenants.
        let prefix = "bench-\(getpid())-"
        var ids: [String] = []
        for i in 0..<max(1, tenants) { ids.append(try await store.createTenant(name: prefix + "\(i)", plan: "pro").id) }
        let plan = try await store.plan(named: "pro")
        let zone = plan?.timeZone ?? "UTC"

        let tenantIDs = ids
        let perWorker = max(1, calls / max(1, concurrency))
        let samples = try await withThrowingTaskGroup(of: [Double].self) { group in
            for worker in 0..<max(1, concurrency) {
                group.addTask {
                    var durations: [Double] = []
                    for i in 0..<perWorker {
                        let tenant = tenantIDs[(worker * perWorker + i) % tenantIDs.count]
                        let start = ContinuousClock.now
                        try await Self.oneCall(store, tenant: tenant, zone: zone, limits: plan?.limits ?? [:])
                        let elapsed = ContinuousClock.now - start
                        durations.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
                    }
                    return durations
                }
            }
            var all: [Double] = []
            let started = ContinuousClock.now
            for try await part in group { all += part }
            let wall = ContinuousClock.now - started
            return (all, Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18)
        }
        let sorted = samples.0.sorted()
        let median = sorted[sorted.count / 2]
        let p99 = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
        let rate = Double(sorted.count) / samples.1
        try await store.close()
        if json {
            print(#"{"backend": "\#(store.backend)", "concurrency": \#(concurrency), "calls": \#(sorted.count), "median_us": \#(String(format: "%.1f", median)), "p99_us": \#(String(format: "%.1f", p99)), "calls_per_second": \#(String(format: "%.0f", rate))}"#)
        } else {
            print(store.backend + String(format: ", concurrency %d: %d calls, median %.1f µs, p99 %.1f µs, %.0f calls/s", concurrency, sorted.count,
                         median, p99, rate))
        }
    }

    /// What the meter does for one exec call: a reservation with the day and
    /// month counters, then a settlement with measured CPU and wall time.
    static func oneCall(_ store: any Store, tenant: String, zone: String, limits: [String: Limit]) async throws {
        let now = Date()
        func charge(_ metric: String, _ amount: Double) -> Charge {
            let window = PeriodWindow(Metric.catalog[metric]?.period ?? .day, containing: now, timeZone: zone)
            return Charge(metric: metric, periodStart: window.start, periodEnd: window.end, amount: amount, limit: limits[metric])
        }
        let id = "res_" + RandomID.string(length: 16)
        let request = ReservationRequest(
            id: id, tenantID: tenant, tool: "exec", requestID: "req_" + id, idempotencyKey: id, at: now,
            charges: [charge("exec.calls.day", 1), charge("exec.calls.month", 1), charge("cpu.seconds.month", 0),
                      charge("wall.seconds.month", 0)],
            concurrentLimit: limits["concurrent.calls"].map { Limit($0.limit * 1000, hard: true) })
        guard case .reserved = try await store.reserve(request) else { throw ValidationError("a bench reservation was refused") }
        try await store.settle(Settlement(
            reservationID: id, endedAt: Date(), status: "ok", httpStatus: 200,
            figures: CallFigures(cpuMs: 12, wallMs: 20, memoryPeakBytes: 3 << 20), ran: true,
            measured: [charge("cpu.seconds.month", 0.012), charge("wall.seconds.month", 0.02)], decision: "allow",
            response: Data(repeating: 0x61, count: 300)))
    }
}
