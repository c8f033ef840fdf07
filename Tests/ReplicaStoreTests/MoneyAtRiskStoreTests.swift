import Foundation
import Testing

@testable import ReplicaCore
@testable import ReplicaStore

/// The money a region's unreplicated writes put at risk: each payment once, at its amount
/// now, for every threshold asked, the same in one pass as asked one by one.
@Suite struct MoneyAtRiskStoreTests {
    @Test func onePassAnswersEveryThresholdAsIfAskedAlone() throws {
        let tmp = TempStore()
        let store = try tmp.open()
        var w = Writer()
        // Seqs 1-6 create payments 0-5 (amounts 100-105, USD); 7 patches payment 1.
        for i in 0..<6 { try store.commit([w.create(i, at: 10 + UInt64(i))]) }
        try store.commit([w.update(1, PaymentPatch(status: .authorized), at: 20)])
        let reader = try store.reader()
        let thresholds: [UInt64] = [0, 3, 6, 7]
        let together = try reader.amountsAbove(thresholds, of: usEast)
        for (i, seq) in thresholds.enumerated() {
            let alone = try reader.amountsAbove(seq, of: usEast)
            #expect(together[i].map(\.currency) == alone.map(\.currency))
            #expect(together[i].map(\.minorUnits) == alone.map(\.minorUnits))
        }
        let all: Int64 = 100 + 101 + 102 + 103 + 104 + 105
        let aboveThree: Int64 = 103 + 104 + 105 + 101  // 4-6, and payment 1 by its patch (7)
        #expect(together[0].first?.minorUnits == all)
        #expect(together[1].first?.minorUnits == aboveThree)
        #expect(together[2].first?.minorUnits == 101)
        #expect(together[3].isEmpty)
    }
}
