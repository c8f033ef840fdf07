import Foundation
import NIOPosix
import Testing

@testable import PaymentNode
@testable import ReplicaCore
@testable import ReplicaStore

/// A client's read of one payment by id runs on the caller's thread with connections of
/// its own: slow reads holding every pooled connection never make it wait.
@Suite struct StoreIOTests {
    @Test func aPointRead_neverWaitsForTheConnectionsSlowReadsHold() async throws {
        let dir = NSTemporaryDirectory() + "paynode-storeio-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try ReplicaStore(options: StoreOptions(path: dir + "/node.sqlite"))
        let committer = GroupCommitter(store: store)
        defer { committer.shutdown() }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let io = try StoreIO(store: store, committer: committer, loop: loop, pooledReaders: 1)

        // A slow read holds the one pooled connection until it is let go.
        let (holding, letGo, answered) = (
            DispatchSemaphore(value: 0), DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)
        )
        Thread.detachNewThread {
            _ = try? io.readBlocking { _ in
                holding.signal()
                letGo.wait()
            }
        }
        holding.wait()
        let id = PaymentID.derived(merchantID: "m1", idempotencyKey: "k1")
        Thread.detachNewThread {
            if (try? io.readPoint { try $0.payment(id) == nil }) == true { answered.signal() }
        }
        #expect(answered.wait(timeout: .now() + 10) == .success)
        letGo.signal()
        await io.shutdown()
    }
}
