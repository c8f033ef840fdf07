@testable import ReplicaCore

/// SplitMix64: a small, explicit, seeded generator, so every property test replays
/// exactly from its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Fixtures {
    static let tokyo = RegionID("ap-northeast-1")!
    static let virginia = RegionID("us-east-1")!
    static let ireland = RegionID("eu-west-1")!
    static let regions = [tokyo, virginia, ireland]

    static func create(_ n: Int = 1, amount: Int64 = 1_999) -> CreatePayment {
        CreatePayment(
            merchantID: "m_\(n % 7)", orderID: "order-\(n)", amount: amount, currency: "EUR", method: .card,
            paymentKey: "tok_\(n)", description: "order \(n)")
    }

    static func id(_ n: Int) -> PaymentID {
        PaymentID.derived(merchantID: "m", idempotencyKey: "key-\(n)")
    }
}
