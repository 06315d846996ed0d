import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the policies on SIGHUP, as daemons do; a broken file keeps the old ones.
struct PolicyReloadService: Service {
    let decisions: DecisionServices
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            _ = try? await decisions.reloadPolicies(actor: "SIGHUP", logger: logger)
        }
    }
}
