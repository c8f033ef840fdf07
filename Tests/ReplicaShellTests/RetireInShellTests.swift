import ReplicaCore
import Testing

@testable import ReplicaShell

/// Retiring a region in the shell: it runs in turn with the peer inputs queued before it
/// (a message the retired peer sent before it was retired is no protocol violation), and
/// a region is not drained while a write of its own is still in its commit.
@Suite struct RetireInShellTests {
    typealias F = ShellFixtures

    @Test func aMessageQueuedBeforeRetirePeer_isNoProtocolViolation() {
        let shell = F.shell(cacheBytes: 4_096)  // ap-northeast-1, peer us-east-1
        shell.peerConnected(F.virginia)
        shell.peerSent(.hello(region: F.virginia, vector: VersionVector()), from: F.virginia)
        #expect(shell.engine.counters.protocolViolations == 0)
        shell.store.holdLoads = true
        // A client write waits for its record read; us-east-1's ACK, sent before it was
        // retired, waits behind it.
        shell.submit(F.create(1), durability: .local) { _ in }
        shell.peerSent(.ack(vector: VersionVector()), from: F.virginia)
        shell.retirePeer(F.virginia)  // a reload: runs after the ACK
        shell.store.finishLoads()
        #expect(shell.engine.counters.protocolViolations == 0)
    }

    /// A write taken before `beginRetirement` and still in its group commit keeps the region
    /// from being drained: no peer holds it yet.
    @Test func aWriteStillInItsCommit_keepsTheRegionFromBeingDrained() {
        let shell = F.shell()  // ap-northeast-1, peer us-east-1
        shell.peerConnected(F.virginia)
        shell.peerSent(.hello(region: F.virginia, vector: VersionVector()), from: F.virginia)
        let answers = Answers<WriteAck>()
        shell.submit(F.create(1), durability: .local, reply: answers.reply)
        #expect(shell.store.waiting.count == 1)  // taken, in its group commit
        shell.beginRetirement()
        #expect(!shell.engine.retirement.drained)
        #expect(!shell.finishRetirement())
        shell.store.finish(.committed)
        #expect((try? answers.all.first?.get())?.seq == 1)
        #expect(!shell.engine.retirement.drained)  // us-east-1 holds none of it yet
    }
}
