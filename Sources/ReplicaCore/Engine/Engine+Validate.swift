// MARK: - What a peer sends is checked like client input

/// Bounds on numbers a peer sends that no honest peer comes near.
public enum PeerBounds {
    /// A sequence number: fits the store's signed 64-bit columns with room.
    public static let seqMax: UInt64 = 1 << 53
    /// A register's depth (writes of one field a writer had seen).
    public static let depthMax: UInt32 = 1 << 20
    /// How far beyond the receiver's clock a stamp may be before it is refused outright
    /// (closer stamps are taken and clamp the clock, counted: see `maxClockSkewMillis`).
    public static let stampAheadMillisMax: UInt64 = 3_600_000
}

extension ReplicationEngine {
    /// A region whose writes this cluster holds: this one, a peer, or a retired one.
    func isClusterRegion(_ r: RegionID) -> Bool { r == region || peers.contains(r) || retired[r] != nil }

    /// Why `vector` cannot be true (nil when it can): regions outside the cluster,
    /// sequence numbers out of bounds, or more of this region's own writes than it made
    /// (a region believes only its own store about its own history, once it holds it).
    func problem(with vector: VersionVector, in what: String) -> String? {
        for (origin, seq) in vector.sortedEntries {
            guard isClusterRegion(origin) else {
                return "\(what) names \(origin), not a region of this cluster (a retired region belongs under retired:)"
            }
            guard seq <= PeerBounds.seqMax else {
                return "\(what) claims \(origin):\(seq), beyond \(PeerBounds.seqMax)"
            }
            // Applied, not only durable: a region that got its own history back from a
            // snapshot holds it before the commit does, and a peer rightly claims it.
            if origin == region && ownHistoryFrozen && seq > self.vector[region] {
                return "\(what) claims \(seq) writes of \(region), which made \(self.vector[region])"
            }
        }
        return nil
    }

    /// Why the entry that is next of its origin cannot be applied (nil when it can).
    func problem(with entry: LogEntry, nowMillis: UInt64) -> String? {
        let name = "entry \(entry.origin):\(entry.seq)"
        guard isClusterRegion(entry.origin) else { return "\(name): \(entry.origin) is not a region of this cluster" }
        guard entry.seq <= PeerBounds.seqMax else { return "\(name): seq beyond \(PeerBounds.seqMax)" }
        if entry.origin == region && ownHistoryFrozen {
            return "\(name): a write of this region that it never made (it made \(vector[region]))"
        }
        if let p = problem(withStamp: entry.hlc, nowMillis: nowMillis) { return "\(name): \(p)" }
        // Decoded once, and only when some change replaced a value.
        let held = entry.changes.contains { $0.base != nil } ? records[entry.paymentID] : nil
        for change in entry.changes {
            let register = entry.register(for: change)
            if let p = problem(with: register, field: change.field) { return "\(name): \(p)" }
            // When this region holds the value the writer replaced, the depth is known exactly.
            if let current = held?[change.field], let base = change.base, current.stamp == base,
                current.depth < PeerBounds.depthMax, change.depth != current.depth + 1
            {
                return "\(name): \(change.field) has depth \(change.depth) over a value of depth \(current.depth)"
            }
        }
        return nil
    }

    /// Why a snapshot record cannot be merged (nil when it can).
    func problem(with record: PaymentRecord, nowMillis: UInt64) -> String? {
        for (field, register) in record.presentRegisters {
            guard isClusterRegion(register.stamp.region) else {
                return "record \(record.id): stamped by \(register.stamp.region), not a region of this cluster"
            }
            if let p = problem(withStamp: register.stamp.time, nowMillis: nowMillis) {
                return "record \(record.id): \(p)"
            }
            if let p = problem(with: register, field: field) { return "record \(record.id): \(p)" }
        }
        return nil
    }

    /// A register's value by the rules of a client write, its depth and its base.
    func problem(with register: FieldRegister, field: PaymentField) -> String? {
        do { try PaymentValidation.validate(field, register.value) } catch { return "\(field): \(error.message)" }
        guard register.depth >= 1, register.depth <= PeerBounds.depthMax else {
            return "\(field): depth \(register.depth) out of bounds"
        }
        if let base = register.base {
            guard base < register.stamp, register.depth >= 2 else {
                return "\(field): replaces a value not older than itself"
            }
        } else if register.depth != 1 {
            return "\(field): depth \(register.depth) with no value replaced"
        }
        return nil
    }

    func problem(withStamp time: HLCTimestamp, nowMillis: UInt64) -> String? {
        guard time.wallMillis <= nowMillis &+ PeerBounds.stampAheadMillisMax else {
            return "stamped \(time.wallMillis - nowMillis) ms ahead of this region's clock"
        }
        return nil
    }
}
