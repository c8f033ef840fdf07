import Foundation
import LZ4
import ReplicaCore
import XCTest

@testable import ReplicaTransport

/// `PeerFrame`: `length (UInt32 BE) | kind | payload`. Round trips of every message kind,
/// which kinds get compressed, that captured payloads are standard LZ4 frames, and that
/// every malformed body is refused with `PeerFrame.Malformed` (never a trap).
final class PeerFrameTests: XCTestCase {
    // MARK: Fixtures (the approach of ReplicaCoreTests' PeerMessageCodecTests)

    static let tokyo = RegionID("ap-northeast-1")!
    static let virginia = RegionID("us-east-1")!
    static let ireland = RegionID("eu-west-1")!

    static func id(_ n: Int) -> PaymentID { PaymentID.derived(merchantID: "m", idempotencyKey: "key-\(n)") }

    static func sampleEntry(_ seq: UInt64) -> LogEntry {
        let base = Stamp(time: HLCTimestamp(wallMillis: 5, counter: 1), region: ireland)
        return LogEntry(
            origin: tokyo, seq: seq, hlc: HLCTimestamp(wallMillis: 1_700_000_000_000 + seq, counter: 2),
            paymentID: id(Int(seq)),
            changes: [
                FieldChange(field: .amount, value: .integer(1_000_000_000_000_000), base: nil),
                FieldChange(field: .status, value: .text("authorized"), base: base, depth: 7),
                FieldChange(field: .paymentKey, value: .absent, base: base),
                FieldChange(field: .description, value: .text("naïve café ☕"), base: nil),
                FieldChange(field: .metadata, value: .metadata(["a": "1", "b": ""]), base: base),
            ])
    }

    static var vector: VersionVector { VersionVector([tokyo: 7, ireland: 1 << 40]) }

    static var record: PaymentRecord {
        var record = PaymentRecord(id: id(9))
        let entry = sampleEntry(3)
        for change in entry.changes { record.merge(entry.register(for: change), into: change.field) }
        return record
    }

    static var samples: [PeerMessage] {
        [
            .hello(region: virginia, vector: vector),
            .hello(region: virginia, vector: VersionVector()),
            .ack(vector: vector),
            .ping(vector: vector),
            .delta(batchID: 42, entries: (1...4).map(sampleEntry)),
            .delta(batchID: 0, entries: []),
            .snapshot(records: [record], vector: nil),
            .snapshot(records: [record, PaymentRecord(id: id(10))], vector: vector),
        ]
    }

    /// The frame's body: everything after the 4-byte length prefix.
    static func body(_ frame: PeerFrame.Encoded) -> [UInt8] { Array(frame.bytes.dropFirst(PeerFrame.headerBytes)) }

    static func declaredLength(_ frame: PeerFrame.Encoded) -> UInt32 {
        frame.bytes.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    func assertMalformed(_ body: [UInt8], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try PeerFrame.decodeBody(body), message, file: file, line: line) { error in
            XCTAssertTrue(error is PeerFrame.Malformed, "\(message): threw \(type(of: error))", file: file, line: line)
        }
    }

    // MARK: Round trips

    func testEveryMessageKindRoundTrips() throws {
        var kindsSeen: Set<UInt8> = []
        for message in Self.samples {
            let frame = PeerFrame.encode(message)
            kindsSeen.insert(message.kind.rawValue)
            XCTAssertEqual(
                Int(Self.declaredLength(frame)), frame.bytes.count - PeerFrame.headerBytes, "\(message.kind)")
            XCTAssertEqual(frame.messageBytes, message.encoded().count)
            XCTAssertEqual(try PeerFrame.decodeBody(Self.body(frame)), message, "\(message.kind)")
        }
        XCTAssertEqual(kindsSeen, Set(PeerMessage.Kind.allCases.map(\.rawValue)))
    }

    func testManySimilarDeltaEntriesAreCompressedAndSmaller() throws {
        let message = PeerMessage.delta(batchID: 7, entries: (1...200).map(Self.sampleEntry))
        let frame = PeerFrame.encode(message)
        XCTAssertTrue(frame.compressed)
        // Nodes send compressed DELTAs as kind 3 (primed with PeerDictionary.v1).
        XCTAssertEqual(frame.bytes[4], PeerFrame.Kind.dictionaryCompressedMessage.rawValue)
        XCTAssertNotEqual(frame.bytes[4], PeerFrame.Kind.message.rawValue)
        XCTAssertLessThan(
            frame.bytes.count * 4, message.encoded().count, "200 similar entries should shrink at least 4x")
        XCTAssertEqual(frame.messageBytes, message.encoded().count)
        XCTAssertEqual(try PeerFrame.decodeBody(Self.body(frame)), message)
    }

    func testLargeSnapshotIsCompressed() throws {
        let records = (0..<50).map { n -> PaymentRecord in
            var record = PaymentRecord(id: Self.id(100 + n))
            let entry = Self.sampleEntry(UInt64(n + 1))
            for change in entry.changes { record.merge(entry.register(for: change), into: change.field) }
            return record
        }
        let message = PeerMessage.snapshot(records: records, vector: Self.vector)
        let frame = PeerFrame.encode(message)
        XCTAssertTrue(frame.compressed)
        XCTAssertNotEqual(frame.bytes[4], PeerFrame.Kind.message.rawValue)
        XCTAssertLessThan(frame.bytes.count, message.encoded().count)
        XCTAssertEqual(try PeerFrame.decodeBody(Self.body(frame)), message)
    }

    func testControlMessagesAreNeverCompressed() throws {
        // A vector over many regions gives LZ4 something to work with; still not compressed.
        let names = (0..<40).map { "region-with-a-long-repetitive-name-\($0)" }.compactMap(RegionID.init)
        let big = VersionVector(Dictionary(uniqueKeysWithValues: names.map { ($0, UInt64(1_000)) }))
        for message: PeerMessage in [
            .hello(region: Self.virginia, vector: big), .ack(vector: big), .ping(vector: big),
            .hello(region: Self.virginia, vector: VersionVector()), .ping(vector: VersionVector()),
        ] {
            let frame = PeerFrame.encode(message)
            XCTAssertFalse(frame.compressed, "\(message.kind)")
            XCTAssertEqual(frame.bytes[4], PeerFrame.Kind.message.rawValue, "\(message.kind)")
            XCTAssertEqual(Self.body(frame), [1] + message.encoded(), "\(message.kind)")
        }
        XCTAssertFalse(PeerFrame.compresses(.hello))
        XCTAssertFalse(PeerFrame.compresses(.ack))
        XCTAssertFalse(PeerFrame.compresses(.ping))
        XCTAssertTrue(PeerFrame.compresses(.delta))
        XCTAssertTrue(PeerFrame.compresses(.snapshot))
    }

    func testTinyDeltaThatWouldGrowIsSentUncompressed() throws {
        let message = PeerMessage.delta(batchID: 0, entries: [])
        let frame = PeerFrame.encode(message)
        XCTAssertFalse(frame.compressed)
        XCTAssertEqual(Self.body(frame), [PeerFrame.Kind.message.rawValue] + message.encoded())
    }

    func testPlainLZ4FrameOfKind2Decodes() throws {
        let message = PeerMessage.delta(batchID: 3, entries: (1...30).map(Self.sampleEntry))
        for checksummed in [false, true] {
            let payload = try LZ4Frame.compress(message.encoded(), checksummed: checksummed)
            XCTAssertEqual(try PeerFrame.decodeBody([PeerFrame.Kind.compressedMessage.rawValue] + payload), message)
        }
    }

    // MARK: The lz4 command reads captured payloads

    func lz4Decompress(_ payload: [UInt8], dictionary: [UInt8]? = nil) throws -> (status: Int32, output: [UInt8]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("peer-frame-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("payload.lz4")
        try Data(payload).write(to: file)
        var arguments = ["lz4", "-d", "-c"]
        if let dictionary {
            let dictFile = dir.appendingPathComponent("dict.bin")
            try Data(dictionary).write(to: dictFile)
            arguments += ["-D", dictFile.path]
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments + [file.path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, Array(data))
    }

    func testCapturedKind2PayloadDecompressesWithTheLZ4Command() throws {
        let message = PeerMessage.delta(batchID: 11, entries: (1...25).map(Self.sampleEntry))
        let payload = try LZ4Frame.compress(message.encoded(), checksummed: false)
        let body = [PeerFrame.Kind.compressedMessage.rawValue] + payload
        XCTAssertEqual(try PeerFrame.decodeBody(body), message)
        let result = try lz4Decompress(Array(body.dropFirst()))
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.output, message.encoded())
    }

    func testCapturedEncodedPayloadDecompressesWithTheLZ4CommandAndTheDictionary() throws {
        let message = PeerMessage.delta(batchID: 12, entries: (1...25).map(Self.sampleEntry))
        let frame = PeerFrame.encode(message)
        XCTAssertTrue(frame.compressed)
        let payload = Array(frame.bytes.dropFirst(PeerFrame.headerBytes + 1))
        let result = try lz4Decompress(payload, dictionary: PeerDictionary.v1.bytes)
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.output, message.encoded())
    }

    // MARK: Limits and malformed bodies

    func testCheckLength() {
        XCTAssertThrowsError(try PeerFrame.checkLength(0)) { XCTAssertTrue($0 is PeerFrame.Malformed) }
        XCTAssertThrowsError(try PeerFrame.checkLength(UInt32(PeerFrame.frameBytesMax + 1))) {
            XCTAssertTrue($0 is PeerFrame.Malformed)
        }
        XCTAssertThrowsError(try PeerFrame.checkLength(.max)) { XCTAssertTrue($0 is PeerFrame.Malformed) }
        XCTAssertNoThrow(try PeerFrame.checkLength(1))
        XCTAssertNoThrow(try PeerFrame.checkLength(UInt32(PeerFrame.frameBytesMax)))
        XCTAssertGreaterThan(PeerFrame.frameBytesMax, WireLimits.messageBytesMax)
    }

    func testMalformedBodiesAreRefused() throws {
        let hello = PeerMessage.hello(region: Self.virginia, vector: Self.vector)
        assertMalformed([], "empty body")
        assertMalformed([9] + hello.encoded(), "unknown kind 9")
        assertMalformed([0] + hello.encoded(), "unknown kind 0")
        assertMalformed([2, 0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3, 4, 5, 6, 7, 8], "kind 2 with bytes that are not LZ4")
        assertMalformed([3, 0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3, 4, 5, 6, 7, 8], "kind 3 with bytes that are not LZ4")
        assertMalformed([2], "kind 2 with no payload")
        let encoded = hello.encoded()
        assertMalformed([1] + encoded.dropLast(), "kind 1 with a truncated message")
        assertMalformed([1] + encoded + [0], "kind 1 with a trailing byte")
        assertMalformed([1], "kind 1 with no message")
        let delta = PeerMessage.delta(batchID: 1, entries: [Self.sampleEntry(1)]).encoded()
        assertMalformed([1] + delta.prefix(delta.count / 2), "kind 1 with half a delta")
    }

    func testTruncatedCompressedPayloadIsRefused() throws {
        let message = PeerMessage.delta(batchID: 5, entries: (1...30).map(Self.sampleEntry))
        let payload = try LZ4Frame.compress(message.encoded(), checksummed: false)
        assertMalformed([2] + payload.prefix(payload.count / 2), "kind 2 cut in half")
    }

    func testCompressedControlMessagesAreRefused() throws {
        let control: [PeerMessage] = [
            .hello(region: Self.virginia, vector: Self.vector), .ack(vector: Self.vector),
            .ping(vector: Self.vector),
        ]
        for message in control {
            let plain = try LZ4Frame.compress(message.encoded())
            XCTAssertThrowsError(try PeerFrame.decodeBody([2] + plain), "kind 2 \(message.kind)") { error in
                XCTAssertTrue(error is PeerFrame.Malformed)
                XCTAssertTrue("\(error)".contains("must not be compressed"), "\(error)")
            }
            let primed = try PeerDictionary.v1.compress(message.encoded())
            assertMalformed([3] + primed, "kind 3 \(message.kind)")
        }
    }
}
