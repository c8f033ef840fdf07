import Foundation
import NIOPosix
import Testing

@testable import PaymentNode
@testable import ReplicaCore
@testable import ReplicaStore

/// A client's read of one payment by id runs on the caller's thread with connections of
/// its own: slow reads holding every pooled connection never make it wait, and when its
/// own connections are all busy it goes to the pool instead of waiting for one.
@Suite struct StoreIOTests {
    let id = PaymentID.derived(merchantID: "m1", idempotencyKey: "k1")

    @Test func aPointRead_neverWaitsForTheConnectionsSlowReadsHold() async throws {
        try await withStoreIO(pooledReaders: 1) { io in
            let held = Holder(count: 1) { body in _ = try? io.readBlocking { _ in body() } }
            let answered = DispatchSemaphore(value: 0)
            Task.detached { [id] in
                if (try? await io.readPoint { try $0.payment(id) == nil }) == true { answered.signal() }
            }
            #expect(answered.wait(timeout: .now() + 10) == .success)
            held.letGo()
        }
    }

    @Test func aPointRead_goesToThePool_whenItsOwnConnectionsAreAllBusy() async throws {
        try await withStoreIO(pooledReaders: 1) { io in
            let held = Holder(count: StoreIO.pointReadersCount) { body in
                _ = try? io.pointReaders.read { _ in body() }
            }
            let answered = DispatchSemaphore(value: 0)
            Task.detached { [id] in
                if (try? await io.readPoint { try $0.payment(id) == nil }) == true { answered.signal() }
            }
            #expect(answered.wait(timeout: .now() + 10) == .success)
            held.letGo()
        }
    }

    @Test func readIfFree_runsNothing_whenEveryConnectionIsBusy() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try ReplicaStore(options: StoreOptions(path: dir + "/node.sqlite"))
        let pool = StoreReaderPool(store: store, size: 1)
        let held = Holder(count: 1) { body in _ = try? pool.read { _ in body() } }
        var ran = false
        #expect(try pool.readIfFree { _ in ran = true } == nil)
        #expect(!ran)
        held.letGo()
        // Given back, the connection is free again.
        #expect(try pool.readIfFree { _ in 7 } == 7)
    }

    private func withStoreIO(pooledReaders: Int, _ body: (StoreIO) async throws -> Void) async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try ReplicaStore(options: StoreOptions(path: dir + "/node.sqlite"))
        let committer = GroupCommitter(store: store)
        defer { committer.shutdown() }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let io = try StoreIO(store: store, committer: committer, loop: loop, pooledReaders: pooledReaders)
        try await body(io)
        await io.shutdown()
    }

    private func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "paynode-storeio-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// Threads that each hold a read open (`hold` runs the body it is given inside a read)
/// until `letGo`; `init` returns once every one of them holds, `letGo` once every one
/// has finished its read.
private final class Holder: Sendable {
    private let release = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let count: Int

    init(count: Int, hold: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void) {
        self.count = count
        let holding = DispatchSemaphore(value: 0)
        for _ in 0..<count {
            Thread.detachNewThread { [release, finished] in
                hold {
                    holding.signal()
                    release.wait()
                }
                finished.signal()
            }
        }
        for _ in 0..<count { holding.wait() }
    }

    func letGo() {
        for _ in 0..<count { release.signal() }
        for _ in 0..<count { finished.wait() }
    }
}
