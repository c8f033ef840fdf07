import Testing

@testable import ReplicaCore

@Suite struct PeerMessageCodecTests {
    static func sampleEntry(_ seq: UInt64) -> LogEntry {
        let base = Stamp(time: HLCTimestamp(wallMillis: 5, counter: 1), region: Fixtures.ireland)
        return LogEntry(
            origin: Fixtures.tokyo, seq: seq, hlc: HLCTimestamp(wallMillis: 1_700_000_000_000 + seq, counter: 2),
            paymentID: Fixtures.id(Int(seq)),
            changes: [
                FieldChange(field: .amount, value: .integer(1_000_000_000_000_000), base: nil),
                FieldChange(field: .status, value: .text("authorized"), base: base, depth: 7),
                FieldChange(field: .paymentKey, value: .absent, base: base),
                FieldChange(field: .description, value: .text("naïve café ☕"), base: nil),
                FieldChange(field: .metadata, value: .metadata(["a": "1", "b": ""]), base: base),
            ])
    }

    static var samples: [PeerMessage] {
        var record = PaymentRecord(id: Fixtures.id(9))
        for change in sampleEntry(3).changes { record.merge(sampleEntry(3).register(for: change), into: change.field) }
        let vector = VersionVector([Fixtures.tokyo: 7, Fixtures.ireland: 1 << 40])
        return [
            .hello(region: Fixtures.virginia, vector: vector),
            .hello(region: Fixtures.virginia, vector: VersionVector()),
            .delta(batchID: 42, entries: (1...20).map(sampleEntry)),
            .delta(batchID: 0, entries: []),
            .ack(vector: vector),
            .ping(vector: vector),
            .ping(
                vector: vector,
                clock: ClockSample(sentAtMillis: 1_764_000_000_000, echoMillis: 1_763_999_999_000, heldMillis: 250)),
            .ping(vector: vector, clock: .none, snapshotFrom: Fixtures.ireland),
            .snapshot(records: [record], vector: nil),
            .snapshot(records: [record, PaymentRecord(id: Fixtures.id(10))], vector: vector),
        ]
    }

    @Test func test_everyMessage_roundTrips() throws {
        for message in Self.samples {
            #expect(try PeerMessage.decode(message.encoded()) == message)
        }
    }

    /// A sender's held bytes go on the wire as they are: the same message, byte for byte,
    /// as encoding the values, and the receiver decodes the value form.
    @Test func test_encodedForms_writeTheSameBytesAsTheValues() throws {
        let entries = (1...20).map(Self.sampleEntry)
        let delta = PeerMessage.delta(batchID: 42, entries: entries)
        let held = PeerMessage.encodedDelta(batchID: 42, entries: entries.map { EncodedEntry($0).bytes })
        #expect(held.encoded() == delta.encoded())
        #expect(try held.decodedForm() == delta)
        let records = Self.samples.compactMap { if case .snapshot(let r, _, _) = $0 { r } else { nil } }.last!
        let vector = VersionVector([Fixtures.tokyo: 7])
        for last in [nil, vector] {
            let chunk = PeerMessage.snapshot(records: records, vector: last, part: 3)
            let stored = PeerMessage.encodedSnapshot(
                records: records.map { EncodedRecord($0).bytes }, vector: last, part: 3)
            #expect(stored.encoded() == chunk.encoded())
            #expect(try stored.decodedForm() == chunk)
            #expect(stored.kind == .snapshot)
        }
        #expect(try EntryHeader(of: EncodedEntry(entries[4]).bytes) == EntryHeader(entries[4]))
        #expect(try PaymentRecord.id(ofEncoded: EncodedRecord(records[1]).bytes) == records[1].id)
    }

    @Test func test_encoding_isCanonical() throws {
        let a = VersionVector([Fixtures.tokyo: 1, Fixtures.virginia: 2, Fixtures.ireland: 3])
        let b = VersionVector([Fixtures.ireland: 3, Fixtures.virginia: 2, Fixtures.tokyo: 1])
        #expect(PeerMessage.ack(vector: a).encoded() == PeerMessage.ack(vector: b).encoded())
    }

    @Test func test_everyTruncation_throwsNeverTraps() {
        for message in Self.samples {
            let bytes = message.encoded()
            for cut in 0..<bytes.count {
                #expect(throws: DecodingError.self) { try PeerMessage.decode(Array(bytes[0..<cut])) }
            }
            #expect(throws: DecodingError.self) { try PeerMessage.decode(bytes + [0]) }
        }
    }

    /// Fuzz-style: random bytes, and valid messages with random bytes flipped. Decoding
    /// either fails with an error or yields a message that re-encodes; it never traps.
    @Test func test_randomAndMutatedBytes_decodeOrThrow_over20000Cases() throws {
        var rng = SplitMix64(seed: 7)
        let valid = Self.samples.map { $0.encoded() }
        for i in 0..<20_000 {
            var bytes: [UInt8]
            if i % 2 == 0 {
                bytes = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                if bytes.count > 1 && i % 4 == 0 {
                    bytes[0] = 1
                    bytes[1] = UInt8(1 + rng.next() % 5)
                }
            } else {
                bytes = valid[Int(rng.next() % UInt64(valid.count))]
                for _ in 0..<(1 + rng.next() % 3) where !bytes.isEmpty {
                    bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
                }
            }
            if let message = try? PeerMessage.decode(bytes) {
                #expect((try? PeerMessage.decode(message.encoded())) == message)
            }
        }
    }

    @Test func test_hostileCounts_areRefusedBeforeAllocating() {
        var w = ByteWriter()
        w.writeUInt8(PeerMessage.formatVersion)
        w.writeUInt8(PeerMessage.Kind.delta.rawValue)
        w.writeVarint(1)
        w.writeVarint(UInt64(Int64.max))
        #expect(throws: DecodingError.self) { try PeerMessage.decode(w.bytes) }

        var s = ByteWriter()
        s.writeUInt8(PeerMessage.formatVersion)
        s.writeUInt8(PeerMessage.Kind.hello.rawValue)
        s.writeVarint(1 << 40)
        #expect(throws: DecodingError.self) { try PeerMessage.decode(s.bytes) }
    }

    @Test func test_valueOfWrongKindOrUnknownStatus_isRefused() {
        func entryMessage(_ field: PaymentField, _ value: FieldValue) -> [UInt8] {
            PeerMessage.delta(
                batchID: 1,
                entries: [
                    LogEntry(
                        origin: Fixtures.tokyo, seq: 1, hlc: .zero, paymentID: Fixtures.id(1),
                        changes: [FieldChange(field: field, value: value, base: nil)])
                ]
            ).encoded()
        }
        #expect(throws: DecodingError.self) { try PeerMessage.decode(entryMessage(.amount, .text("12"))) }
        #expect(throws: DecodingError.self) { try PeerMessage.decode(entryMessage(.status, .text("stolen"))) }
        #expect(throws: DecodingError.self) { try PeerMessage.decode(entryMessage(.merchantID, .absent)) }
        #expect((try? PeerMessage.decode(entryMessage(.description, .absent))) != nil)
    }

    @Test func test_varint_extremesRoundTrip_andOverlongIsRefused() throws {
        for v: UInt64 in [0, 1, 127, 128, 300, .max] {
            var w = ByteWriter()
            w.writeVarint(v)
            var r = ByteReader(w.bytes)
            #expect(try r.readVarint() == v)
        }
        for v: Int64 in [0, -1, 1, .min, .max] {
            var w = ByteWriter()
            w.writeSignedVarint(v)
            var r = ByteReader(w.bytes)
            #expect(try r.readSignedVarint() == v)
        }
        var r = ByteReader(Array(repeating: 0xFF, count: 11))
        #expect(throws: DecodingError.self) { try r.readVarint() }
    }
}
