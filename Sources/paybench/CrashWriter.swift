import Foundation
import ReplicaCore
import ReplicaStore

/// `paybench crash-writer PATH`: writes creates through group commit as fast as it can,
/// printing `acked <seq> <payment id> <hlc>` for each one only after its transaction
/// committed. The crash test kills it with SIGKILL mid-load and checks the file.
enum CrashWriter {
    static func run(path: String) throws -> Never {
        let store = try ReplicaStore(options: StoreOptions(path: path))
        let recovered = try store.recover()
        var workload = CreateWorkload(recovered: recovered)
        let committer = GroupCommitter(store: store)
        let out = FileHandle.standardOutput
        let inFlight = DispatchSemaphore(value: 64)
        while true {
            inFlight.wait()
            let request = workload.next(nowMillis: UInt64(Date().timeIntervalSince1970 * 1_000))
            let entry = request.entries[0].entry
            committer.submit([request]) { result in
                if case .success = result {
                    out.write(Data("acked \(entry.seq) \(entry.paymentID) \(entry.hlc.rawValue)\n".utf8))
                }
                inFlight.signal()
            }
        }
    }
}
