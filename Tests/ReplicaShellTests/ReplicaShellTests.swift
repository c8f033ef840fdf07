import ReplicaCore
import Testing

@testable import ReplicaShell

/// The shell over hand-driven ports: what a client hears, and when, as commits land,
/// fail and recover.
@Suite struct ReplicaShellTests {
    typealias F = ShellFixtures

    @Test func test_write_isAnsweredOnlyAfterItsCommit() {
        let shell = F.shell()
        let answers = Answers<WriteAck>()
        shell.submit(F.create(1), durability: .local, reply: answers.reply)
        #expect(answers.all.isEmpty && shell.store.waiting.count == 1)
        shell.store.finish(.committed)
        #expect((try? answers.all.first?.get())?.seq == 1)
    }

    @Test func test_rolledBackCommit_refusesWritesThenResumesByItselfOnceTheStoreTakesWrites() {
        let shell = F.shell()
        let first = Answers<WriteAck>()
        shell.submit(F.create(1), durability: .local, reply: first.reply)
        shell.store.writable = false
        shell.store.finish(.rolledBack("disk full"))
        // The write was not acknowledged: its client hears 503; links close.
        #expect({ if case .failure(.unavailable) = first.all.first { true } else { false } }())
        #expect(shell.bus.linksEnabled == [false])
        #expect({ if case .recovering = shell.health { true } else { false } }())
        let refused = Answers<WriteAck>()
        shell.submit(F.create(2), durability: .local, reply: refused.reply)
        #expect({ if case .failure(.unavailable) = refused.all.first { true } else { false } }())
        shell.clock.advance(1_000)
        #expect(shell.store.probes >= 2 && shell.health != .serving)
        shell.store.writable = true
        shell.clock.advance(1_000)
        #expect(shell.health == .serving && shell.bus.linksEnabled == [false, true])
        // The engine was rebuilt from what the store holds: the refused write is not there,
        // and the next one takes seq 1 again (nothing with seq 1 was ever committed).
        let again = Answers<WriteAck>()
        shell.submit(F.create(3), durability: .local, reply: again.reply)
        shell.store.finish(.committed)
        #expect((try? again.all.first?.get())?.seq == 1)
    }

    @Test func test_uncertainCommit_stopsWritesForGood() {
        let shell = F.shell()
        let answers = Answers<WriteAck>()
        shell.submit(F.create(1), durability: .local, reply: answers.reply)
        shell.store.finish(.uncertain("fsync failed"))
        shell.clock.advance(5_000)
        #expect({ if case .failed = shell.health { true } else { false } }())
        #expect(shell.store.probes == 0)
        #expect(shell.unavailableReason?.contains("restarted") == true)
    }

    /// The shell's observer hears each wait begin and end, with how long it took and
    /// whether it was served (the node counts them; a 412 is a wait not served).
    @Test func test_sessionRead_waitsForTheCommitThenReadsCommittedState() {
        let shell = F.shell()
        var events: [ShellEvent] = []
        shell.observer = { if case .clockStandingChanged = $0 {} else { events.append($0) } }
        let write = Answers<WriteAck>()
        shell.submit(F.create(1), durability: .local, reply: write.reply)
        let id = F.create(1).paymentID
        let read = Answers<Payment?>()
        shell.readPayment(id, sessionToken: VersionVector([F.tokyo: 1]), reply: read.reply)
        #expect(read.all.isEmpty && events == [.sessionWaitStarted])
        shell.clock.nowMillis += 7
        shell.store.finish(.committed)
        #expect((try? read.all.first?.get())??.id == id)
        #expect(events == [.sessionWaitStarted, .sessionWaitEnded(waitedMillis: 7, served: true)])
        // A token already served waits for nothing: no event.
        shell.readPayment(id, sessionToken: VersionVector([F.tokyo: 1]), reply: Answers<Payment?>().reply)
        #expect(events.count == 2)
        let late = Answers<Payment?>()
        shell.readPayment(id, sessionToken: VersionVector([F.tokyo: 9]), reply: late.reply)
        shell.clock.advance(shell.config.sessionWaitMillis + 100)
        #expect({ if case .failure(.sessionNotAvailable) = late.all.first { true } else { false } }())
        guard case .sessionWaitEnded(let waited, false)? = events.last, events.count == 4 else {
            Issue.record("no unserved wait reported: \(events)")
            return
        }
        #expect(waited >= shell.config.sessionWaitMillis)
    }

    @Test func test_drain_finishesCommitsAndAnswersRemoteWritesAsLocal() {
        let shell = F.shell()
        let write = Answers<WriteAck>()
        shell.submit(F.create(1), durability: .remote, reply: write.reply)
        var drained = false
        shell.drain { drained = true }
        #expect(!drained)
        shell.store.finish(.committed)
        #expect(drained && shell.health == .stopped)
        #expect((try? write.all.first?.get())?.achieved == .local)
        let after = Answers<WriteAck>()
        shell.submit(F.create(2), durability: .local, reply: after.reply)
        #expect({ if case .failure(.unavailable) = after.all.first { true } else { false } }())
    }

    @Test func test_startedRegion_isNotReadyUntilAPeerReadItsClock_andSaysWhenItWritesUnverified() {
        let shell = F.shell(clockWaitMillis: 3_000)
        var events: [ShellEvent] = []
        shell.observer = { events.append($0) }
        shell.clock.advance(20)
        #expect(shell.readinessProblem?.contains("clocks") == true && shell.readinessNote == nil)
        #expect(
            events.map { if case .clockStandingChanged(let s) = $0 { s.name } else { "" } } == ["awaiting_readings"])
        let refused = Answers<WriteAck>()
        shell.submit(F.create(1), durability: .local, reply: refused.reply)
        #expect(
            { if case .failure(.rejected(let e)) = refused.all.first { e.code == .clockUnverified } else { false } }())
        // No peer answers: after the wait it writes on its own clock, ready, with a note.
        shell.clock.advance(3_000)
        #expect(shell.readinessProblem == nil && shell.readinessNote?.contains("own clock") == true)
        #expect(
            events.compactMap { if case .clockStandingChanged(let s) = $0 { s.name } else { nil } }.last == "unverified"
        )
    }

    @Test func test_newStore_isNotReadyUntilItsPeersHaveSpoken() {
        let shell = F.shell(ownHistory: false)
        #expect(shell.readinessProblem?.contains("us-east-1") == true)
        shell.peerConnected(F.virginia)
        shell.peerSent(.hello(region: F.virginia, vector: VersionVector()), from: F.virginia)
        #expect(shell.readinessProblem == nil)
    }

    /// A commit of only this region's own changes shows a follower of the change feed
    /// nothing (they show once another region holds them), so it wakes no one; the
    /// acknowledgement that makes them visible does, and so does the commit of another
    /// region's change.
    @Test func test_feedFollowers_areWokenOnlyWhenTheFeedCanShowMore() {
        let shell = F.shell()
        shell.peerConnected(F.virginia)
        shell.peerSent(.hello(region: F.virginia, vector: VersionVector()), from: F.virginia)
        var woken: [UInt64] = []
        let start = shell.feedVersion
        shell.waitForFeed(after: start, timeoutMillis: 60_000) { woken.append($0) }
        shell.submit(F.create(1), durability: .local, reply: Answers<WriteAck>().reply)
        shell.store.finish(.committed)
        shell.clock.advance(50)
        #expect(woken.isEmpty && shell.feedVersion == start)
        shell.peerSent(.ack(vector: VersionVector([F.tokyo: 1])), from: F.virginia)
        #expect(woken.count == 1 && shell.ownEventsVisibleThrough == 1)

        shell.waitForFeed(after: shell.feedVersion, timeoutMillis: 60_000) { woken.append($0) }
        guard case .create(let id, let create, _) = F.create(2) else { return }
        let entry = LogEntry(
            origin: F.virginia, seq: 1, hlc: HLCTimestamp(wallMillis: shell.clock.nowMillis, counter: 0),
            paymentID: id,
            changes: (create.fieldValues + [(.requestFingerprint, .text(create.fingerprint))]).map {
                FieldChange(field: $0.0, value: $0.1, base: nil)
            })
        shell.peerSent(.delta(batchID: 1, entries: [entry]), from: F.virginia)
        #expect(woken.count == 1 && shell.store.waiting.count == 1)
        shell.store.finish(.committed)
        #expect(woken.count == 2)
    }
}
