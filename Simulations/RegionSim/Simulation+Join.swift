import ReplicaCore
import ReplicaShell

// MARK: - A region added while the cluster serves

extension Simulation {
    /// `add-region`, as the operator does it: every member's config gets the new region
    /// (a reload: `ReplicaShell.addPeer` at each running node; a node that is down lists
    /// it from its next start), then the new region starts with a `paynode init --join`
    /// store (empty, its own history not complete, wire format 3 until its peers report
    /// the cluster's) and lists every member, lost ones too (the others' vectors still
    /// name them). Its links come up like any other; its clients start sending to it once
    /// it runs, and it refuses writes (503) until every peer has greeted it. Dropped when
    /// the run heals first.
    func addRegion(_ j: Int) {
        guard !regions[j].member else { return }
        guard !healing else {
            timeline.append(TimelineMark(atMicros: now, region: j, label: "add-region not done before the heal"))
            return
        }
        regions[j].member = true
        regions[j].joinedAtMicros = now
        stats.regionsAdded += 1
        for r in memberRegions where r != j { regions[r].shell?.addPeer(regionIDs[j]) }
        regions[j].store.committed = emptyStorage()
        regions[j].cutOff = [(now, nil)]
        startRegion(j)
        timeline.append(TimelineMark(atMicros: now, region: j, label: "added: members reloaded, started joining"))
        for p in memberRegions where p != j { tryConnect(j, p) }
        for c in clients.indices where clients[c].home == j {
            clients[c].router = memberRouter(home: j)
            schedule(.clientNext(client: c), in: workRNG.between(0, 100_000))
        }
    }

    /// An added region acknowledged a write of its own.
    func noteJoinedRegionWrite(since joinedMicros: UInt64) {
        if stats.joinedRegionWrites == 0 { stats.joinFirstWriteMillis = (now - joinedMicros) / 1_000 }
        probes.regionJoined = true
        stats.joinedRegionWrites += 1
    }
}
