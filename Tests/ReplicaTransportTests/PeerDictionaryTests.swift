import Foundation
import LZ4
import ReplicaCore
import Testing

@testable import ReplicaTransport

/// The peer dictionary: nodes send DELTAs as frame kind 3, a standard LZ4 frame primed
/// with `PeerDictionary.v1`, which the `lz4` command reads with `-D`; and it pays off
/// for small batches.
@Suite struct PeerDictionaryTests {
    static func delta(_ n: Int) -> PeerMessage {
        let region = RegionID("ap-northeast-1")!
        let entries = (0..<n).map { i -> LogEntry in
            let create = CreatePayment(
                merchantID: "m_7", orderID: "order-\(5_000 + i)", amount: Int64(990 + i), currency: "EUR",
                method: .card, description: "Order order-\(5_000 + i)")
            let values = create.fieldValues + [(PaymentField.requestFingerprint, FieldValue.text(create.fingerprint))]
            return LogEntry(
                origin: region, seq: UInt64(i + 1),
                hlc: HLCTimestamp(wallMillis: 1_795_000_000_000 + UInt64(i), counter: 0),
                paymentID: PaymentID.derived(merchantID: "m_7", idempotencyKey: "k\(i)"),
                changes: values.map { FieldChange(field: $0.0, value: $0.1, base: nil) })
        }
        return .delta(batchID: 1, entries: entries)
    }

    @Test func deltaFramesUseTheDictionaryAndRoundTrip() throws {
        let message = Self.delta(5)
        let frame = PeerFrame.encode(message)
        #expect(frame.bytes[4] == PeerFrame.Kind.dictionaryCompressedMessage.rawValue)
        #expect(try PeerFrame.decodeBody(Array(frame.bytes.dropFirst(4))) == message)
        // Without the dictionary the same payload does not decode to the message.
        let payload = Array(frame.bytes.dropFirst(5))
        #expect((try? LZ4Frame.decompress(payload, maxOutputBytes: 1 << 20)) != message.encoded())
    }

    @Test func theLZ4CommandReadsACapturedPayloadWithTheDictionary() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "peer-dict-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let message = Self.delta(12)
        let frame = PeerFrame.encode(message)
        try Data(frame.bytes.dropFirst(5)).write(to: dir.appendingPathComponent("payload.lz4"))
        try Data(PeerDictionary.v1.bytes).write(to: dir.appendingPathComponent("dict.bin"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "lz4", "-d", "-c", "-D", dir.appendingPathComponent("dict.bin").path,
            dir.appendingPathComponent("payload.lz4").path,
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(Array(data) == message.encoded())
    }

    @Test func theDictionaryHelpsSmallBatchesAndIsStable() throws {
        let message = Self.delta(4)
        let plain = try LZ4Frame.compress(message.encoded(), checksummed: false)
        let primed = PeerFrame.encode(message).bytes.count - 5
        #expect(primed * 10 < plain.count * 9, "dictionary \(primed) bytes vs plain \(plain.count)")
        // Every node must build the very same bytes.
        #expect(PeerDictionary.bytes() == PeerDictionary.v1.bytes)
        #expect(PeerDictionary.v1.bytes.count < 64 * 1_024)
    }
}
