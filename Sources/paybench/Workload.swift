import ReplicaCore

/// Persist requests made by a real `ReplicationEngine` from a stream of creates: what a
/// node's store sees under a write-only load.
struct CreateWorkload {
    var engine: ReplicationEngine
    var n = 0
    let startMillis: UInt64

    init(region: String = "us-east-1", startMillis: UInt64 = 1_800_000_000_000, clockHighWater: HLCTimestamp = .zero,
         recovered: RecoveredState = RecoveredState()) {
        let r = RegionID(region)!
        var state = recovered
        state.clockHighWater = max(state.clockHighWater, clockHighWater)
        engine = ReplicationEngine(config: EngineConfig(region: r, peers: []), recovered: state)
        self.startMillis = startMillis
        n = Int(state.vector.total) // a restarted writer continues with new payments
    }

    /// The next create's persist request.
    mutating func next(nowMillis: UInt64? = nil) -> PersistRequest {
        n += 1
        let create = CreatePayment(merchantID: "m\(n % 50)", orderID: "order-\(n)", amount: Int64(100 + n % 100_000),
                                   currency: "EUR", method: .card, paymentKey: "tok_\(n)", description: "benchmark payment \(n)")
        let id = PaymentID.derived(merchantID: create.merchantID, idempotencyKey: "bench-\(startMillis)-\(n)")
        let (result, directives) = engine.submit(.create(id, create, idempotent: true), ticket: WriteTicket(UInt64(n)),
                                                 durability: .local, nowMillis: nowMillis ?? startMillis + UInt64(n / 10))
        guard case .pending = result, case .persist(let request)? = directives.first else {
            preconditionFailure("benchmark create \(n) was not accepted: \(result)")
        }
        return request
    }
}
