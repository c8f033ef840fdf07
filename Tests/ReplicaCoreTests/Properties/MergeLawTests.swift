import Testing

@testable import ReplicaCore

/// The CRDT laws, over many seeded random records: merge is commutative, associative
/// and idempotent, so replicas converge whatever the delivery order.
@Suite struct MergeLawTests {
    static let id = Fixtures.id(1)

    static func randomRecord(_ rng: inout SplitMix64) -> PaymentRecord {
        var r = PaymentRecord(id: id)
        let statuses = PaymentStatus.allCases
        for field in [PaymentField.status, .description, .amount, .metadata] where rng.next() % 3 != 0 {
            let stamp = Stamp(
                time: HLCTimestamp(wallMillis: rng.next() % 5, counter: UInt16(rng.next() % 3)),
                region: Fixtures.regions[Int(rng.next() % 3)])
            let value: FieldValue
            switch field {
            case .status: value = .text(statuses[Int(rng.next() % UInt64(statuses.count))].rawValue)
            case .amount: value = .integer(Int64(rng.next() % 4))
            case .metadata: value = .metadata(["k": "\(rng.next() % 3)"])
            default: value = rng.next() % 4 == 0 ? .absent : .text("d\(rng.next() % 3)")
            }
            r.merge(
                FieldRegister(value: value, stamp: stamp, base: nil, depth: UInt32(1 + rng.next() % 3)), into: field)
        }
        return r
    }

    /// Merge in the same stamp twice with different values cannot happen (a stamp names
    /// one write), so generated records must agree on values for equal stamps.
    static func consistent(_ records: [PaymentRecord]) -> Bool {
        var seen: [Stamp: FieldValue] = [:]
        var depths: [Stamp: UInt32] = [:]
        for r in records {
            for f in r.presentFields {
                let reg = r[f]!
                if let v = seen[reg.stamp], v != reg.value { return false }
                if let d = depths[reg.stamp], d != reg.depth { return false }
                seen[reg.stamp] = reg.value
                depths[reg.stamp] = reg.depth
            }
        }
        return true
    }

    static func merged(_ a: PaymentRecord, _ b: PaymentRecord) -> PaymentRecord {
        var x = a
        x.merge(b)
        return x
    }

    @Test func test_merge_isCommutativeAssociativeIdempotent_over5000Cases() {
        var rng = SplitMix64(seed: 0xC0FFEE)
        var checked = 0
        while checked < 5_000 {
            let (a, b, c) = (Self.randomRecord(&rng), Self.randomRecord(&rng), Self.randomRecord(&rng))
            guard Self.consistent([a, b, c]) else { continue }
            checked += 1
            #expect(Self.merged(a, b) == Self.merged(b, a))
            #expect(Self.merged(Self.merged(a, b), c) == Self.merged(a, Self.merged(b, c)))
            #expect(Self.merged(a, a) == a)
            #expect(Self.merged(Self.merged(a, b), b) == Self.merged(a, b))
        }
    }

    @Test func test_statusMerge_neverMovesBackwardsInLifeCycle() {
        let early = Stamp(time: HLCTimestamp(wallMillis: 1, counter: 0), region: Fixtures.tokyo)
        let late = Stamp(time: HLCTimestamp(wallMillis: 9, counter: 0), region: Fixtures.virginia)
        var r = PaymentRecord(id: Self.id)
        r.merge(FieldRegister(value: .text("completed"), stamp: early, base: nil), into: .status)
        let outcome = r.merge(FieldRegister(value: .text("authorized"), stamp: late, base: nil), into: .status)
        #expect(outcome.outcome == .kept)
        #expect(r[.status]?.value == .text("completed"))
        #expect(outcome.conflict != nil)
    }

    /// A create retried in a second region after a timeout commits twice; the first
    /// copy may arrive late with a later clock. The update made after the second copy
    /// has seen one write more, so it wins whatever the clocks say.
    @Test func test_updateBeatsLateCopyOfTheCreateItFollowed_evenWithLaterClock() {
        let retriedCreate = Stamp(time: HLCTimestamp(wallMillis: 100, counter: 0), region: Fixtures.virginia)
        let update = Stamp(time: HLCTimestamp(wallMillis: 101, counter: 0), region: Fixtures.virginia)
        // Ireland's clock is ahead.
        let lateFirstCreate = Stamp(time: HLCTimestamp(wallMillis: 1_900, counter: 0), region: Fixtures.ireland)
        var r = PaymentRecord(id: Self.id)
        r.merge(FieldRegister(value: .text("initial"), stamp: retriedCreate, base: nil, depth: 1), into: .description)
        r.merge(
            FieldRegister(value: .text("updated"), stamp: update, base: retriedCreate, depth: 2), into: .description)
        r.merge(FieldRegister(value: .text("initial"), stamp: lateFirstCreate, base: nil, depth: 1), into: .description)
        #expect(r[.description]?.value == .text("updated"))
    }

    @Test func test_concurrentWritesOfSameField_conflict_sequentialOnesDoNot() {
        let s1 = Stamp(time: HLCTimestamp(wallMillis: 1, counter: 0), region: Fixtures.tokyo)
        let s2 = Stamp(time: HLCTimestamp(wallMillis: 2, counter: 0), region: Fixtures.virginia)
        let s3 = Stamp(time: HLCTimestamp(wallMillis: 3, counter: 0), region: Fixtures.ireland)
        var r = PaymentRecord(id: Self.id)
        r.merge(FieldRegister(value: .text("a"), stamp: s1, base: nil), into: .description)
        // Written having seen s1: an ordinary update.
        #expect(
            r.merge(FieldRegister(value: .text("b"), stamp: s2, base: s1, depth: 2), into: .description).conflict == nil
        )
        // Written having seen only s1, not s2: concurrent with s2, wins by stamp, conflict.
        let c = r.merge(FieldRegister(value: .text("c"), stamp: s3, base: s1, depth: 2), into: .description).conflict
        #expect(c?.winner.stamp == s3 && c?.loser.stamp == s2)
        // The same value written concurrently is not a conflict.
        var same = PaymentRecord(id: Self.id)
        same.merge(FieldRegister(value: .text("x"), stamp: s1, base: nil), into: .description)
        #expect(same.merge(FieldRegister(value: .text("x"), stamp: s2, base: nil), into: .description).conflict == nil)
    }
}
