import Foundation
import Testing

@testable import ReplicaCore
@testable import ReplicaStore

/// A real child process writes through group commit; we `kill -9` it mid-load and
/// reopen its file: every acknowledged write is there, nothing is half-applied, the file
/// is sound, and the clock resumes above everything it stamped.
@Suite struct CrashRecoveryTests {
    static func paybench() throws -> String {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            here, here.deletingLastPathComponent(), here.deletingLastPathComponent().deletingLastPathComponent(),
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath + "/.build/debug"),
        ]
        .map { $0.appendingPathComponent("paybench").path }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw CocoaError(
                .fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "paybench not built; looked in \(candidates)"])
        }
        return found
    }

    struct Ack {
        let seq: UInt64
        let id: PaymentID
        let hlc: HLCTimestamp
    }

    /// Runs the writer until it has acknowledged at least `count` writes, then SIGKILLs it.
    static func writeThenKill(path: String, count: Int) throws -> [Ack] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try paybench())
        process.arguments = ["crash-writer", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        var buffer = Data()
        var acks: [Ack] = []
        let handle = pipe.fileHandleForReading
        let deadline = Date().addingTimeInterval(60)
        while acks.count < count && Date() < deadline {
            let chunk = handle.availableData  // blocks until the child writes (or exits)
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let nl = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...nl)
                let f = line.split(separator: " ")
                if f.count == 4, f[0] == "acked", let seq = UInt64(f[1]), let id = PaymentID(String(f[2])),
                    let hlc = UInt64(f[3])
                {
                    acks.append(Ack(seq: seq, id: id, hlc: HLCTimestamp(rawValue: hlc)))
                }
            }
        }
        if acks.count < count {
            let stderr = String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
            Issue.record("writer stopped after \(acks.count) acks: \(stderr)")
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .uncaughtSignal, "writer exited by itself: \(stderr)")
        return acks
    }

    @Test func test_kill9MidLoad_losesNoAcknowledgedWrite_andClockNeverGoesBack() throws {
        let tmp = TempStore()
        for round in 1...2 {  // crash, restart on the same file, crash again
            let acks = try Self.writeThenKill(path: tmp.path, count: 3_000 * round)
            #expect(acks.count >= 3_000, "the writer acknowledged only \(acks.count) writes")
            guard !acks.isEmpty else { return }
            let store = try tmp.open()
            let reader = try store.reader()
            #expect(try reader.integrityCheck() == "ok")
            let recovered = try store.recover()
            let maxSeq = acks.map(\.seq).max() ?? 0
            #expect(
                recovered.vector[usEast] >= maxSeq, "acked seq \(maxSeq) but the file holds \(recovered.vector[usEast])"
            )
            // Nothing half-applied: every logged entry has its payment, and the other way round.
            #expect(UInt64(recovered.allLogEntries().count) == recovered.vector[usEast])
            #expect(recovered.allRecords().count == recovered.allLogEntries().count)
            let sample = stride(from: 0, to: acks.count, by: 97).map { acks[$0] } + [acks.last!]
            for ack in sample { #expect(try reader.payment(ack.id) != nil, "acked payment \(ack.id) is missing") }
            // The clock resumes above every stamp it gave, even with a wall clock far behind.
            let maxHLC = acks.map(\.hlc).max()!
            #expect(recovered.clockHighWater >= maxHLC)
            var engine = ReplicationEngine(
                config: EngineConfig(region: usEast, peers: []), recovered: recovered, nowMillis: 0)
            let (_, ds) = engine.submit(
                .create(
                    PaymentID.derived(merchantID: "m", idempotencyKey: "after-\(round)"),
                    CreatePayment(merchantID: "m", orderID: "after", amount: 1, currency: "USD", method: .card),
                    idempotent: true),
                ticket: WriteTicket(1), durability: .local, nowMillis: 1_000)
            guard case .persist(let p)? = ds.first else {
                Issue.record("write after restart refused")
                return
            }
            #expect(p.entries[0].entry.hlc > maxHLC)
            #expect(p.entries[0].entry.seq == recovered.vector[usEast] + 1)
        }
    }
}
