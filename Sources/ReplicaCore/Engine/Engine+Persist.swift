// MARK: - Commits reported by the shell

extension ReplicationEngine {
    /// The shell committed every persist request up to and including `requestID`.
    ///
    /// Their entries become durable: they join the outgoing log, `local` writes are
    /// acknowledged, `remote` ones start waiting for a peer, peers whose batches they
    /// were get an ACK, and new entries are pushed to peers.
    public mutating func didPersist(requestID: UInt64, nowMillis: UInt64) -> [EngineDirective] {
        var directives: [EngineDirective] = []
        var ackPeers: [RegionID] = []
        while let first = pendingPersists.first, first.id <= requestID {
            pendingPersists.removeFirst()
            records.unpin(first.pinned)
            if first.dropOnCommit { records.drop(first.pinned) }
            durableVector = first.vector
            if let horizon = first.compactThrough {
                log.trim(through: horizon)
                storeHorizon.merge(horizon)
            }
            for entry in first.entries { log.append(entry) }
            for write in first.localWrites {
                switch write.durability {
                case .local:
                    directives.append(.acknowledge(write.ticket, write.ack))
                case .remote:
                    waitingRemote.append(
                        RemoteWait(
                            ticket: write.ticket, seq: write.seq,
                            deadlineMillis: nowMillis + config.remoteAckTimeoutMillis, ack: write.ack))
                }
            }
            if let peer = first.ackPeer, !ackPeers.contains(peer) { ackPeers.append(peer) }
        }
        for peer in ackPeers.sorted() where peers[peer]?.isOpen == true {
            directives.append(.send(to: peer, .ack(vector: durableVector)))
        }
        records.evictToCapacity()
        directives += releaseRemoteWrites(nowMillis: nowMillis)
        directives += pumpAll(nowMillis: nowMillis)
        return directives
    }

    /// Acknowledges `remote` writes some peer has stored, and times out the ones that
    /// waited too long (acknowledged as `local` only).
    mutating func releaseRemoteWrites(nowMillis: UInt64) -> [EngineDirective] {
        var directives: [EngineDirective] = []
        // Once a call, and only when some write waits: it reads every peer.
        let elsewhere = waitingRemoteHead < waitingRemote.count ? storedElsewhere : 0
        while waitingRemoteHead < waitingRemote.count {
            let wait = waitingRemote[waitingRemoteHead]
            if wait.seq <= elsewhere {
                directives.append(.acknowledge(wait.ticket, wait.ack))
            } else if wait.deadlineMillis <= nowMillis {
                directives.append(.acknowledge(wait.ticket, wait.ack.achieving(.local)))
            } else {
                break
            }
            waitingRemoteHead += 1
        }
        if waitingRemoteHead > 1_024 && waitingRemoteHead * 2 > waitingRemote.count {
            waitingRemote.removeFirst(waitingRemoteHead)
            waitingRemoteHead = 0
        }
        return directives
    }
}

extension ReplicationEngine {
    /// Acknowledges every committed `remote` write still waiting for a peer as `local`
    /// (they are durable here): the shell is draining and no peer ack will come.
    public mutating func releaseAllRemoteWaits() -> [EngineDirective] {
        let directives = waitingRemote[waitingRemoteHead...].map {
            EngineDirective.acknowledge($0.ticket, $0.ack.achieving(.local))
        }
        waitingRemote = []
        waitingRemoteHead = 0
        return directives
    }
}
