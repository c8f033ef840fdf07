import Foundation
import ReplicaCore
import ReplicaStore

/// `paybench probe`: where a durable create's time goes (engine vs commit), single-threaded.
enum Probe {
    static func run(dir: String, writes: Int) throws {
        var workload = CreateWorkload()
        let t0 = DispatchTime.now().uptimeNanoseconds
        let requests = (0..<writes).map { _ in workload.next() }
        let t1 = DispatchTime.now().uptimeNanoseconds
        let store = try ReplicaStore(options: StoreOptions(path: StoreBenchmark.fresh(dir, "probe")))
        for start in stride(from: 0, to: writes, by: 1_000) {
            try store.commit(Array(requests[start..<min(writes, start + 1_000)]))
        }
        let t2 = DispatchTime.now().uptimeNanoseconds
        print(
            "engine: \(Int(Double(writes) / (Double(t1 - t0) / 1e9)))/s; store commit in groups of 1000: \(Int(Double(writes) / (Double(t2 - t1) / 1e9)))/s"
        )
        try snapshotLoad(requests.flatMap(\.records), vector: requests.last!.vector, dir: dir)
    }

    /// The same records committed into an empty store as a snapshot's chunks of 1,024,
    /// the last one carrying the vector (what a region that starts empty does while it
    /// catches up, without the network and the engine), with 1, 4 and 16 chunks per
    /// transaction: a receiver commits in one transaction what arrived while it was busy.
    /// Each in the order the source wrote them (random ids) and in id order (the receiver's
    /// id index then grows at its end instead of taking each record on a random page).
    static func snapshotLoad(_ written: [EncodedRecord], vector: VersionVector, dir: String) throws {
        let chunk = 1_024
        let inIDOrder = written.sorted { $0.record.id < $1.record.id }
        for (order, records) in [("written order", written), ("id order", inIDOrder)] {
            for group in [1, 4, 16] {
                try snapshotLoad(records, order: order, chunk: chunk, group: group, vector: vector, dir: dir)
            }
        }
    }

    static func snapshotLoad(
        _ records: [EncodedRecord], order: String, chunk: Int, group: Int, vector: VersionVector, dir: String
    ) throws {
        do {
            let store = try ReplicaStore(
                options: StoreOptions(path: StoreBenchmark.fresh(dir, "probe-snapshot-\(group)")))
            var pending: [PersistRequest] = []
            let t0 = DispatchTime.now().uptimeNanoseconds
            for (n, start) in stride(from: 0, to: records.count, by: chunk).enumerated() {
                let end = min(records.count, start + chunk)
                if pending.count == group {
                    try store.commit(pending)
                    pending = []
                }
                pending.append(
                    .snapshotChunk(
                        id: UInt64(n + 1), records: Array(records[start..<end]),
                        lastWithVector: end == records.count ? vector : nil))
            }
            try store.commit(pending)
            let t1 = DispatchTime.now().uptimeNanoseconds
            print(
                "snapshot chunks of \(chunk) into an empty store, \(order), \(group) per transaction: "
                    + "\(Int(Double(records.count) / (Double(t1 - t0) / 1e9))) records/s")
        }
    }
}
