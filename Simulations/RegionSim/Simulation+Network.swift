import ReplicaCore

// MARK: - The network: connections, FIFO links, latency, partitions, clogging

extension Simulation {
    func pair(_ a: Int, _ b: Int) -> (Int, Int) { a < b ? (a, b) : (b, a) }

    /// Whether a connection between a and b can be made now (a handshake needs both ways,
    /// and the transport accepts only a region its config lists as a peer).
    func reachable(_ a: Int, _ b: Int) -> Bool {
        regions[a].up && regions[b].up && regions[a].linksEnabled && regions[b].linksEnabled
            && links[a][b].cutUntilMicros <= now && links[b][a].cutUntilMicros <= now
            && lists(a, b) && lists(b, a)
    }

    /// Whether region `a`'s running node has `b` among its peers.
    func lists(_ a: Int, _ b: Int) -> Bool { regions[a].shell?.config.engine.peers.contains(regionIDs[b]) ?? false }

    func tryConnect(_ a: Int, _ b: Int) {
        let (x, y) = pair(a, b)
        // A region not yet added, or retired, is dialed by no one (it is in no config).
        guard !connections[x][y].up, regions[x].member, regions[y].member, !regions[x].retired, !regions[y].retired
        else { return }
        // The link's format is negotiated before the first message (TLS ALPN); with none
        // in common the handshake fails, and dialing goes on.
        guard reachable(x, y), let wire = negotiatedWire(x, y) else {
            scheduleReconnect(x, y)
            return
        }
        connections[x][y].id += 1
        connections[x][y].up = true
        connections[x][y].wire = wire
        stats.connections += 1
        for r in [x, y] { noteReplicable(r) }
        regions[x].shell!.peerConnected(regionIDs[y], wire: wire)
        if connections[x][y].up, let shell = regions[y].shell { shell.peerConnected(regionIDs[x], wire: wire) }
    }

    func scheduleReconnect(_ a: Int, _ b: Int) {
        let (x, y) = pair(a, b)
        guard !connections[x][y].reconnectScheduled, !regions[x].lost, !regions[y].lost, regions[x].member,
            regions[y].member, !regions[x].retired, !regions[y].retired
        else { return }
        connections[x][y].reconnectScheduled = true
        schedule(.reconnect(x, y), in: netRNG.between(200_000, 1_000_000))
    }

    /// Closes the connection (both ends notice), dropping whatever was in flight on it.
    func dropConnection(_ a: Int, _ b: Int) {
        let (x, y) = pair(a, b)
        guard connections[x][y].up else { return }
        connections[x][y].up = false
        connections[x][y].id += 1
        links[x][y].lastDeliveryMicros = 0
        links[y][x].lastDeliveryMicros = 0
        links[x][y].lastDataDeliveryMicros = 0
        links[y][x].lastDataDeliveryMicros = 0
        for (r, p) in [(x, y), (y, x)] where regions[r].up {
            regions[r].shell!.peerDisconnected(regionIDs[p])
            noteReplicable(r)
        }
        scheduleReconnect(x, y)
    }

    /// Sends over the connection, keeping the link FIFO (as TCP does). Packet loss shows
    /// up as a retransmission delay; a cut direction holds messages until it heals.
    func send(_ message: PeerMessage, from a: Int, to b: Int) {
        let (x, y) = pair(a, b)
        guard connections[x][y].up else { return }
        let bytes: [UInt8]
        do {
            bytes = try message.encoded(wire: connections[x][y].wire)
        } catch {
            // The engine must never hand the link a message its format cannot carry; the
            // transport would close the link.
            if releases.unencodable.insert(a * 64 + b).inserted {
                violations.append(
                    SimViolation(
                        kind: .safety,
                        message:
                            "\(regionIDs[a]) sent \(regionIDs[b]) a \(message.kind) that wire format \(connections[x][y].wire) cannot carry: \(error)"
                    ))
            }
            later(a, inMicros: 0) { [unowned self] in dropConnection(a, b) }
            return
        }
        var delay = Geography.latencyMillis(a, b) * 1_000 + netRNG.between(0, options.jitterMillisMax * 1_000)
        if links[a][b].clogUntilMicros > now { delay += links[a][b].clogExtraMicros }
        if options.lossPerMillion > 0 && netRNG.chance(perMillion: options.lossPerMillion) {
            delay += netRNG.between(200_000, 1_000_000)
            stats.lossDelays += 1
        }
        var at = now + delay
        if links[a][b].cutUntilMicros > now { at = links[a][b].cutUntilMicros + delay }
        at = max(at, links[a][b].lastDeliveryMicros)
        links[a][b].lastDeliveryMicros = at
        switch message {
        case .delta, .snapshot, .encodedDelta, .encodedSnapshot: links[a][b].lastDataDeliveryMicros = at
        case .hello, .ack, .ping: break
        }
        links[a][b].bytesSent += UInt64(bytes.count)
        stats.messages += 1
        stats.bytes += UInt64(bytes.count)
        trace.mix(UInt64(a) << 8 | UInt64(b))
        trace.mix(UInt64(bytes.count))
        schedule(.deliver(from: a, to: b, connection: connections[x][y].id, bytes: bytes), at: at)
    }

    func deliver(from a: Int, to b: Int, connection: UInt64, bytes: [UInt8]) {
        let (x, y) = pair(a, b)
        guard connections[x][y].up, connections[x][y].id == connection, regions[b].up else { return }
        let message: PeerMessage
        do {
            message = try PeerMessage.decode(bytes, wire: connections[x][y].wire)
        } catch {
            violations.append(
                SimViolation(kind: .safety, message: "undecodable message \(regionIDs[a])→\(regionIDs[b]): \(error)"))
            return
        }
        if case .snapshot(_, let v, _) = message, v != nil { probes.snapshotCatchUp = true }
        regions[b].shell!.peerSent(message, from: regionIDs[a])
    }

    /// Cuts a→b (and b→a unless one-way) until `until`. A symmetric cut, or a one-way
    /// cut longer than TCP's user timeout, also resets the connection.
    func cut(_ a: Int, _ b: Int, until: UInt64, oneWay: Bool) {
        links[a][b].cutUntilMicros = max(links[a][b].cutUntilMicros, until)
        if !oneWay { links[b][a].cutUntilMicros = max(links[b][a].cutUntilMicros, until) }
        if !oneWay {
            dropConnection(a, b)
        } else if until > now + 5_000_000 {
            schedule(.fault(.resetConnection(a, b)), in: 5_000_000)
        }
        let (x, y) = pair(a, b)
        schedule(.reconnect(x, y), at: until + 1)
        connections[x][y].reconnectScheduled = true
        connections[x][y].cutPending = true
    }

    /// Ends every cut and clog now.
    func healAllLinks() {
        for a in links.indices {
            for b in links.indices where a != b {
                if links[a][b].cutUntilMicros > now {
                    links[a][b].cutUntilMicros = now
                    if a < b || links[b][a].cutUntilMicros <= now { notePartitionHealed(a, b) }
                }
                links[a][b].clogUntilMicros = 0
            }
        }
        for a in regions.indices { for b in regions.indices where a < b { tryConnect(a, b) } }
    }

    /// Opens or closes region `r`'s current cut-off span: it can replicate while it is up
    /// and linked to at least one peer.
    func noteReplicable(_ r: Int) {
        let linked = regions[r].up && regions.indices.contains { q in q != r && connections[min(r, q)][max(r, q)].up }
        let open = regions[r].cutOff.last.map { $0.endMicros == nil } ?? false
        if linked && open {
            regions[r].cutOff[regions[r].cutOff.count - 1].endMicros = now
        } else if !linked && !open {
            regions[r].cutOff.append((now, nil))
        }
    }

    /// How long region `r` could not replicate between `from` and `to`.
    func cutOffMicros(_ r: Int, from: UInt64, to: UInt64) -> UInt64 {
        regions[r].cutOff.reduce(0) { sum, span in
            let start = max(span.startMicros, from)
            let end = min(span.endMicros ?? to, to)
            return end > start ? sum + (end - start) : sum
        }
    }

    /// A partition heals: it "healed mid-batch" if either side still had entries unacked.
    func notePartitionHealed(_ a: Int, _ b: Int) {
        guard regions[a].up, regions[b].up else { return }
        // (A region that does not list the other, one added elsewhere only, has nothing for it.)
        let behind = [(a, b), (b, a)].contains { r, p in
            (regions[r].shell!.status().peers.first { $0.region == regionIDs[p] }?.unreplicatedEntries ?? 0) > 0
        }
        if behind { probes.partitionHealedMidBatch = true }
    }
}
