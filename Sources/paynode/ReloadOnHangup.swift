import PaymentNode
import ServiceLifecycle
import UnixSignals

/// `paynode serve`'s SIGHUP: each one re-reads the config file and swaps in the API key
/// hashes and TLS material (`ReplicaNode.reload(configFile:)`), one reload at a time,
/// until graceful shutdown.
struct ReloadOnHangup: Service {
    let signals: UnixSignalsSequence
    let node: ReplicaNode
    let configFile: String

    /// Traps SIGHUP from now on. Called before the node listens: a SIGHUP sent as soon
    /// as the node answers is queued for `run`, never the default action (exit).
    static func trap() async -> UnixSignalsSequence { await UnixSignalsSequence(trapping: .sighup) }

    func run() async throws {
        for await _ in signals.cancelOnGracefulShutdown() {
            await node.reload(configFile: configFile)
        }
    }
}
