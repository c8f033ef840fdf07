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
    }
}
