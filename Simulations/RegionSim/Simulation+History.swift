import ReplicaCore

// MARK: - Who changed a payment: the same history at every region

extension Simulation {
    /// After convergence, every live region's history of every payment:
    /// - a region that held every change since it started (its feed has no floor) serves
    ///   the history whole, and all such regions list the same changes in the same order,
    ///   each with the same actor, origin, seq and stamp;
    /// - a region that caught up from a snapshot either refuses the history as truncated
    ///   or lists a part of that same history, in the same order;
    /// - every acknowledged write the history holds names the client that made it, or
    ///   no one when its region had not turned on the format that carries actors
    ///   (`checkActors`).
    func checkHistories(live: [Int], lostPayments: Set<PaymentID>) {
        let up = live.filter { regions[$0].up }
        var reference: [PaymentID: (region: Int, changes: [LogEntry])] = [:]
        // Whole feeds first: their histories are the reference.
        let ordered =
            up.filter { regions[$0].store.committed.events.floor.sortedEntries.isEmpty }
            + up.filter {
                !regions[$0].store.committed.events.floor.sortedEntries.isEmpty
            }
        for r in ordered {
            let store = regions[r].store.committed
            let whole = store.events.floor.sortedEntries.isEmpty
            for id in store.records.keys.sortedByID() {
                let history: PaymentHistory
                do throws(PaymentHistoryError) {
                    guard let h = try store.history(id, limit: PaymentHistory.limitMax) else { continue }
                    history = h
                } catch {
                    if whole {
                        violations.append(
                            SimViolation(
                                kind: .safety,
                                message: "\(regionIDs[r]) held every change since it started, yet refused: \(error)"))
                    }
                    stats.historiesTruncated += 1
                    continue
                }
                stats.historiesCompared += 1
                guard let (by, expected) = reference[id] else {
                    if whole { reference[id] = (r, history.changes) }
                    continue
                }
                let same = whole ? history.changes == expected : Self.isOrderedPart(history.changes, of: expected)
                if !same {
                    violations.append(
                        SimViolation(
                            kind: .safety,
                            message:
                                "the history of \(id) differs: \(regionIDs[by]) lists \(Self.describe(expected)); "
                                + "\(regionIDs[r]) lists \(Self.describe(history.changes))"))
                    return
                }
            }
        }
        checkActors(reference.mapValues(\.changes), lostPayments: lostPayments)
    }

    /// Every acknowledged write a history lists names the client that made it, as far as
    /// its region's active wire format allowed: taken once the format that carries actors
    /// was on there, it must name its client; acknowledged while it was still off, no one;
    /// taken before and acknowledged after, either (never another client).
    func checkActors(_ histories: [PaymentID: [LogEntry]], lostPayments: Set<PaymentID>) {
        for w in acked where !lostPayments.contains(w.paymentID) {
            guard
                let entry = histories[w.paymentID]?.first(where: {
                    $0.origin == regionIDs[w.region] && $0.seq == w.seq
                })
            else { continue }
            let expected: String
            let right: Bool
            if w.wire.atSubmit >= WireVersion.actorSince {
                (expected, right) = (w.actor, entry.actor == w.actor)
            } else if w.wire.atAck < WireVersion.actorSince {
                (expected, right) = ("no one", entry.actor == nil)
            } else {
                (expected, right) = ("\(w.actor) or no one", entry.actor == nil || entry.actor == w.actor)
            }
            if right && entry.actor == nil { stats.writesWithoutActor += 1 }
            if !right {
                violations.append(
                    SimViolation(
                        kind: .safety,
                        message:
                            "\(entry.origin):\(entry.seq) on \(w.paymentID) was acknowledged to \(w.actor) "
                            + "(active wire format \(w.wire.atSubmit) when taken, \(w.wire.atAck) when acknowledged), "
                            + "so its history should name \(expected), but it names \(entry.actor ?? "no one")"))
                return
            }
        }
    }

    /// True when `part` is `whole` with some changes left out, in the same order.
    static func isOrderedPart(_ part: [LogEntry], of whole: [LogEntry]) -> Bool {
        var i = whole.startIndex
        for change in part {
            guard let j = whole[i...].firstIndex(of: change) else { return false }
            i = j + 1
        }
        return true
    }

    static func describe(_ changes: [LogEntry]) -> String {
        changes.map { "\($0.origin):\($0.seq) by \($0.actor ?? "-") at \($0.hlc)" }.joined(separator: ", ")
    }
}
