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
    /// committed data go on. A rolled-back commit (disk full) is retried from the tick
    /// until the store takes a write again; an uncertain one (failed fsync) needs a restart.
    func storeFailed(_ reason: String, uncertain: Bool) {
        switch health {
        case .serving, .draining:
            break
        case .recovering, .failed, .stopped:
            return
        }
        let draining = health == .draining
        let now = clock.nowMillis
        if uncertain {
            health = .failed(reason)
        } else {
            health = .recovering(reason)
            recovery = RecoveryState(
                sinceMillis: now, retryMillis: config.recoveryRetryMillisMin,
                nextTryMillis: now + config.recoveryRetryMillisMin, trying: false)
        }
        failWaitingWrites(.unavailable("the store could not commit: \(reason)"))
        failQueuedInputs(.unavailable("the store could not commit: \(reason)"))
        bus.setLinksEnabled(false)
        observer?(.storeFailed(reason: reason, uncertain: uncertain))
        if draining { health = .draining }
    }

    /// While recovering, on each tick once every commit in flight has answered and the
    /// retry is due: a probe write; when it lands, the engine is rebuilt from what the
    /// store committed (the uncommitted tail it held is dropped: none of it was
    /// acknowledged), and writes and peer links resume.
    func tryToRecoverIfDue() {
        guard case .recovering = health, !recovery.trying, commitsInFlight == 0,
            clock.nowMillis >= recovery.nextTryMillis
        else { return }
        recovery.trying = true
        store.probeWritable { [weak self] writable in
            guard let self, case .recovering = health else { return }
            guard writable else { return retryRecoveryLater("the store still refuses a write") }
            store.recover { [weak self] result in
                guard let self, case .recovering = health else { return }
                switch result {
                case .failure(let error): retryRecoveryLater(error.description)
                case .success(let state): resume(from: state)
                }
            }
        }
    }

    func retryRecoveryLater(_ reason: String) {
        recovery.trying = false
        recovery.retryMillis = min(recovery.retryMillis * 2, config.recoveryRetryMillisMax)
        recovery.nextTryMillis = clock.nowMillis + recovery.retryMillis
        observer?(.recoveryFailed(reason: reason, retryMillis: recovery.retryMillis))
    }

    func resume(from state: RecoveredState) {
        let now = clock.nowMillis
        engine = ReplicationEngine(
            config: config.engine, recovered: state, counters: engine.counters,
            clockReadings: engine.clockReadings(nowMillis: now), nowMillis: now)
        if retiring { engine.beginRetirement() }
        if storedIDs == nil { startStoredIDFilter(state) }
        engineGeneration += 1
        health = .serving
        recovery.trying = false
        bus.setLinksEnabled(true)
        serveSessionWaiters()
        observer?(.storeRecovered(downMillis: clock.nowMillis - recovery.sinceMillis))
    }

    /// Stops taking writes and peer messages, waits for every commit in flight, answers
    /// what still waits (`remote` writes as `local`: they are durable here), then `done`.
    public func drain(done: @escaping () -> Void) {
        if health == .stopped { return done() }
        health = .draining
        bus.setLinksEnabled(false)
        let finish = { [self] in
            carryOut(engine.releaseAllRemoteWaits())
            failWaitingWrites(.unavailable("the node is shutting down"))
            failQueuedInputs(.unavailable("the node is shutting down"))
            let waiters = sessionWaiters
            sessionWaiters = []
            for w in waiters { w.reply(.failure(.unavailable("the node is shutting down"))) }
            health = .stopped
            // Feed followers wake, read once more and are told the node is shutting down.
            let followers = feed.waiting
            feed.waiting = []
            for w in followers { w.reply(feed.version) }
            observer?(.drained)
            done()
        }
        if commitsInFlight == 0 { finish() } else { whenCommitsDrained.append(finish) }
    }
}
