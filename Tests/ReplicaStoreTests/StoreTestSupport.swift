import Foundation

@testable import ReplicaCore
@testable import ReplicaStore

/// A fresh store file in a temporary directory, removed when the test ends.
final class TempStore {
    let dir: String
    var path: String { dir + "/node.sqlite" }
    init() {
        dir = NSTemporaryDirectory() + "paynode-store-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: dir) }
    func open(_ sync: StoreOptions.Synchronous = .full) throws -> ReplicaStore {
        var o = StoreOptions(path: path)
        o.synchronous = sync
        return try ReplicaStore(options: o)
    }
}

let usEast = RegionID("us-east-1")!
let euWest = RegionID("eu-west-1")!
let apNortheast = RegionID("ap-northeast-1")!

/// An engine that makes persist requests from creates and updates.
struct Writer {
    var engine: ReplicationEngine
    var n = 0
    init(
        _ region: RegionID = usEast, peers: [RegionID] = [],
        recovered: RecoveredState = RecoveredState(ownHistoryComplete: true)
    ) {
        var config = EngineConfig(region: region, peers: peers)
        config.clockFirstReadingMillis = 0  // these tests write before any clock reading
        engine = ReplicationEngine(config: config, recovered: recovered, nowMillis: 0)
    }

    mutating func create(_ i: Int, at now: UInt64, actor: String? = nil) -> PersistRequest {
        n += 1
        let c = CreatePayment(
            merchantID: "m\(i % 3)", orderID: "o\(i)", amount: Int64(100 + i), currency: "USD",
            method: .card, description: "payment \(i)", metadata: ["i": "\(i)"])
        let (r, ds) = engine.submit(
            .create(PaymentID.derived(merchantID: c.merchantID, idempotencyKey: "k\(i)"), c, idempotent: true),
            actor: actor,
            ticket: WriteTicket(UInt64(n)), durability: .local, nowMillis: now)
        guard case .pending = r, case .persist(let p)? = ds.first else { fatalError("create \(i) refused: \(r)") }
        _ = engine.didPersist(requestID: p.id, nowMillis: now)
        return p
    }

    mutating func update(_ i: Int, _ patch: PaymentPatch, at now: UInt64, actor: String? = nil) -> PersistRequest {
        n += 1
        let id = PaymentID.derived(merchantID: "m\(i % 3)", idempotencyKey: "k\(i)")
        let (r, ds) = engine.submit(
            .update(id, patch), actor: actor, ticket: WriteTicket(UInt64(n)), durability: .local, nowMillis: now)
        guard case .pending = r, case .persist(let p)? = ds.first else { fatalError("update \(i) refused: \(r)") }
        _ = engine.didPersist(requestID: p.id, nowMillis: now)
        return p
    }
}

func digest(_ records: [PaymentRecord]) -> String {
    var w = ByteWriter()
    for r in records.sorted(by: { $0.id < $1.id }) { w.writeRecord(r) }
    return SHA256.hex(SHA256.hash(w.bytes))
}
