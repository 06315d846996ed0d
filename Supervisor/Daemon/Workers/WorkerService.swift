import ServiceLifecycle

/// Keeps the idle reaper running and, at shutdown (after the APIs have
/// drained), stops every worker.
struct WorkerService: Service {
    let workers: WorkerManager
    let graceMs: Int

    func run() async throws {
        await workers.startReaper()
        try? await gracefulShutdown()
        await workers.shutdownAll(graceMs: min(graceMs, 5000))
    }
}
