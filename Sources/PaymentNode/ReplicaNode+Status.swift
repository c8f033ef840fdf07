import ReplicaCore
import ReplicaStore

/// What the node says of itself: replication status, money at risk, the state digest,
/// readiness.
extension ReplicaNode {
    /// The replication status now.
    public func status() async throws -> ReplicationStatus { try await onLoop { $0.status() } }

    /// What losing this region now would cost in money: per currency, the amounts of the
    /// payments with a write of this region that no other region holds yet (`total`), and
    /// that each peer lacks (`perPeer`), from `status`'s acknowledgements and the store.
    ///
    /// The sums read the whole unreplicated log: while a peer catches up that is every
    /// payment this region holds. So the last answer is kept: given again, exact, while
    /// the store and the acknowledgements are unchanged, and with its age while a read
    /// runs or while a slow read waits its turn (`MoneyAtRiskCache`).
    public func moneyAtRisk(_ status: ReplicationStatus) async throws -> MoneyAtRisk {
        let own = status.region
        let heldElsewhere = status.peers.map { $0.acked[own] }.max() ?? 0
        let seqs = [heldElsewhere] + status.peers.map { $0.acked[own] }
        let regions = status.peers.map(\.region)
        let key = MoneyAtRiskCache.Key(storeChanges: committer.storeChanges, seqs: seqs, regions: regions)
        let clock = ContinuousClock()
        let start = clock.now
        if case .answer(let kept) = moneyAtRiskCache.withLock({ $0.decide(key, now: start) }) { return kept }
        do {
            let sums = try await io.read { reader in try reader.amountsAbove(seqs, of: own) }
            let answer = MoneyAtRisk(total: sums[0], perPeer: zip(regions, sums.dropFirst()).map { ($0, $1) })
            let took = clock.now - start
            moneyAtRiskCache.withLock { $0.keep(answer, for: key, readAt: start, took: took) }
            return answer
        } catch {
            moneyAtRiskCache.withLock { $0.readFailed() }
            throw error
        }
    }

    /// `StateDigest` of the committed records (equal digests, equal state).
    public func stateDigest() async -> String {
        (try? await io.read { try $0.stateDigest() }) ?? ""
    }

    /// Why writes are refused, if they are (nil when healthy): the store failed or is
    /// recovering, the node is draining, or a new or wiped store awaits its history.
    public func unavailableReason() async -> String? {
        do { return try await onLoop { $0.readinessProblem } } catch { return "the node has stopped" }
    }

    /// What a ready region should still say of itself (nil when nothing): it writes on an
    /// unverified clock.
    public func readinessNote() async -> String? { try? await onLoop { $0.readinessNote } }
}
