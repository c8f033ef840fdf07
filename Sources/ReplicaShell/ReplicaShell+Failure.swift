import ReplicaCore

// MARK: - A failed commit, recovery, drain

struct RecoveryState {
    var sinceMillis: UInt64 = 0
    var retryMillis: UInt64 = 0
    var nextTryMillis: UInt64 = 0
    var trying = false
}

extension ReplicaShell {
    /// A commit failed. What is in memory is ahead of the disk: writes stop, waiting
    /// writes are told so (they were not acknowledged), peer links close; reads of
    /// committed data go on.
    func storeFailed(_ reason: String, uncertain: Bool) {
        switch health {
        case .serving, .draining, .recovering:
            break
        case .failed, .stopped:
            return
        }
        let wasDraining = health == .draining
        health = .failed(reason)
        failWaitingWrites(.unavailable("the store could not commit: \(reason)"))
        bus.setLinksEnabled(false)
        observer?(.storeFailed(reason: reason, uncertain: uncertain))
        if wasDraining { health = .draining }
    }

    func tryToRecoverIfDue() {}

    /// Stops taking writes and peer messages, waits for every commit in flight, answers
    /// what still waits (`remote` writes as `local`: they are durable here), then `done`.
    public func drain(done: @escaping () -> Void) {
        if health == .stopped { return done() }
        health = .draining
        bus.setLinksEnabled(false)
        let finish = { [self] in
            carryOut(engine.releaseAllRemoteWaits())
            failWaitingWrites(.unavailable("the node is shutting down"))
            let waiters = sessionWaiters
            sessionWaiters = []
            for w in waiters { w.reply(.failure(.unavailable("the node is shutting down"))) }
            health = .stopped
            observer?(.drained)
            done()
        }
        if commitsInFlight == 0 { finish() } else { whenCommitsDrained.append(finish) }
    }
}
