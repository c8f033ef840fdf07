import Testing

@testable import ReplicaCore

@Suite struct IdentifierTests {
    @Test func test_derivedID_isStableAndDependsOnBothParts() {
        let a = PaymentID.derived(merchantID: "m1", idempotencyKey: "k")
        #expect(a == PaymentID.derived(merchantID: "m1", idempotencyKey: "k"))
        #expect(a != PaymentID.derived(merchantID: "m2", idempotencyKey: "k"))
        #expect(
            PaymentID.derived(merchantID: "a", idempotencyKey: "bc")
                != PaymentID.derived(merchantID: "ab", idempotencyKey: "c"))
        #expect(a.rawValue.hasPrefix("pay_") && a.rawValue.count == 30)
        #expect(PaymentID(a.rawValue) == a)
    }

    @Test func test_base32Encode_matchesTheBitByBitDefinition() {
        #expect(CrockfordBase32.encode(bits: [0xFF, 0xFF], characters: 3) == "ZZZ")
        #expect(CrockfordBase32.encode(bits: [0b0000_1000, 0b1000_0000], characters: 3) == "120")
        #expect(CrockfordBase32.encode(bits: [], characters: 2) == "00")
        // The definition: symbol i is bits 5i..<5i+5, most significant first, zero-padded.
        func reference(_ bits: [UInt8], _ characters: Int) -> String {
            String(
                decoding: (0..<characters).map { i in
                    let value = (0..<5).reduce(0) { v, b in
                        let bit = i * 5 + b
                        return v << 1 | (bit / 8 < bits.count ? Int(bits[bit / 8] >> (7 - UInt8(bit % 8)) & 1) : 0)
                    }
                    return CrockfordBase32.alphabet[value]
                }, as: UTF8.self)
        }
        var rng = SplitMix64(seed: 7)
        for _ in 0..<2_000 {
            let bytes = (0..<Int(rng.next() % 34)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let characters = Int(rng.next() % 40)
            #expect(CrockfordBase32.encode(bits: bytes, characters: characters) == reference(bytes, characters))
        }
    }

    @Test func test_generatedIDs_sortByTime() {
        let early = PaymentID.generated(wallMillis: 1_700_000_000_000, entropy: (.max, .max))
        let late = PaymentID.generated(wallMillis: 1_700_000_000_001, entropy: (0, 0))
        #expect(early < late)
        #expect(PaymentID(early.rawValue) != nil)
    }

    @Test func test_sortedByID_isTheSameOrderAsSorted() {
        var rng = SplitMix64(seed: 8)
        var ids = (0..<5_000).map { Fixtures.id($0) }
        // Generated ids within one millisecond share their first ten characters: ties in
        // the leading words must still order by the rest.
        ids += (0..<2_000).map { _ in
            PaymentID.generated(
                wallMillis: 1_800_000_000_000 + rng.next() % 3,
                entropy: (rng.next(), UInt16(truncatingIfNeeded: rng.next())))
        }
        ids.shuffle(using: &rng)
        let fast = ids.sortedByID()
        #expect(fast == ids.sorted())
        #expect(fast == ids.sorted { $0.rawValue.utf8.lexicographicallyPrecedes($1.rawValue.utf8) })
    }

    @Test(arguments: [
        "", "pay_", "pay_0123456789ABCDEFGHJKMNPQR", "pay_0123456789abcdefghjkmnpqrs", "pax_0123456789ABCDEFGHJKMNPQRS",
        "pay_0123456789ABCDEFGHJKMNPQRU",
    ])
    func test_paymentIDParse_rejectsMalformed(_ text: String) {
        #expect(PaymentID(text) == nil)
    }

    @Test func test_regionID_acceptsCloudNamesOnly() {
        #expect(RegionID("ap-northeast-1") != nil)
        #expect(RegionID("") == nil)
        #expect(RegionID("US-EAST-1") == nil)
        #expect(RegionID("a b") == nil)
        #expect(RegionID(String(repeating: "a", count: 33)) == nil)
    }
}
