import ReplicaCore
import ReplicaShell

// MARK: - Checks of retired regions, once the survivors converged

extension Simulation {
    /// For every retirement done:
    /// - every survivor lists the region as retired (told at once, or at its restart);
    /// - no survivor reports more of its writes lost than truly were (committed there, held
    ///   by no survivor): none when it was decommissioned (but what a wipe of its folder
    ///   lost before);
    /// - decommissioned: every survivor holds every write it acknowledged (but those such a
    ///   wipe lost), and its own store records that it was retired (it would serve no more).
    /// A decommission still under way at the end (one that cannot finish: a lost region
    /// never holds its writes) is marked on the timeline.
    func checkRetirements(live: [Int]) {
        let survivors = live.filter { regions[$0].up }
        for d in retirements.done {
            let j = d.region
            let id = regionIDs[j]
            if d.clean && !regions[j].store.committed.selfRetired {
                violations.append(
                    SimViolation(
                        kind: .safety,
                        message:
                            "\(id) was stopped as decommissioned, but its store does not record its retirement "
                            + "(it would serve again)"))
            }
            guard convergedAtMicros != nil else { continue }
            // What truly is lost: the most of its own writes it committed before its store
            // was lost (a wipe of its folder, its loss) that no survivor holds. A
            // decommission loses none; a wipe before it may have.
            let held = survivors.map { regions[$0].store.committed.vector[id] }.max() ?? 0
            let committed = retirements.ownCommittedMax[j] ?? 0
            let truth = committed > held ? committed - held : 0
            var reported: UInt64 = 0
            for s in survivors {
                guard let seen = regions[s].shell!.status().retired.first(where: { $0.region == id }) else {
                    violations.append(
                        SimViolation(
                            kind: .liveness,
                            message:
                                "\(regionIDs[s]) was never told that \(id) was retired "
                                + "(\(d.clean ? "decommissioned" : "lost") at \(d.atMicros / 1_000) ms): "
                                + "it still lists it as a peer"))
                    continue
                }
                reported = max(reported, seen.lostEntries)
                guard seen.lostEntries > truth else { continue }
                violations.append(
                    SimViolation(
                        kind: .safety,
                        message:
                            "\(regionIDs[s]) reports \(seen.lostEntries) writes of \(id) lost "
                            + "(last heard to hold \(seen.lastHeard), survivors hold \(seen.heldBySurvivors)), "
                            + (d.clean
                                ? "after it was decommissioned (drained)"
                                    + (truth > 0 ? "; a wipe of its folder before lost \(truth)" : "")
                                : "but \(truth) were (it committed \(committed), survivors hold \(held))")))
            }
            if d.clean {
                checkDecommissionedWrites(j, survivors: survivors)
            } else {
                stats.retiredLostEntriesReported += reported
                stats.retiredLostEntriesTrue += truth
            }
        }
        for j in memberRegions where regions[j].retiring {
            timeline.append(
                TimelineMark(atMicros: now, region: j, label: "retirement not done: \(retirementProgress(j))"))
        }
    }

    /// Every write decommissioned region `j` acknowledged is at every survivor, but those
    /// a wipe of its data folder lost (`checkDurability` holds them against the RPO).
    func checkDecommissionedWrites(_ j: Int, survivors: [Int]) {
        let id = regionIDs[j]
        let kept = acked.filter { w in
            guard w.region == j else { return false }
            guard let wipe = wipes.first(where: { $0.region == j && $0.epoch >= w.epoch }) else { return true }
            return w.seq <= (wipe.survivedThrough ?? wipe.peersHeld)
        }
        guard let last = kept.max(by: { $0.seq < $1.seq }) else { return }
        for s in survivors where regions[s].store.committed.vector[id] < last.seq {
            violations.append(
                SimViolation(
                    kind: .safety,
                    message:
                        "\(regionIDs[s]) holds \(regions[s].store.committed.vector[id]) of the writes of \(id), "
                        + "which acknowledged \(id):\(last.seq) (\(last.paymentID)) at \(last.ackMicros / 1_000) ms "
                        + "and was then decommissioned"))
        }
    }
}
