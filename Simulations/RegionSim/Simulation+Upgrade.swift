import ReplicaCore
import ReplicaShell

// MARK: - Releases: regions on the release before, rolling upgrades, the wire format gate

/// What the run knows of its regions' releases: how many still run the release before
/// (while any does, no region may turn the newest wire format on).
struct ReleaseTracker {
    /// Regions whose running binary speaks only the release before's format.
    var onPrevious = 0
    /// The gate check failed once (it is reported once per run).
    var gateViolated = false
    /// Links (`from * 64 + to`) that were handed a message their format cannot carry
    /// (reported once per link direction: the engine would resend it).
    var unencodable: Set<Int> = []
}

extension Simulation {
    /// The binary of the release before this one: it speaks its own format only.
    static let previousRelease: ClosedRange<UInt8> = (WireVersion.current - 1)...(WireVersion.current - 1)

    /// The release after `release`: it speaks its own format and the one before (this
    /// release is the newest there is).
    static func nextRelease(after release: ClosedRange<UInt8>) -> ClosedRange<UInt8> {
        let newest = min(release.upperBound + 1, WireVersion.current)
        return max(newest - 1, WireVersion.supported.lowerBound)...newest
    }

    /// The active format of the cluster's first stores: the release before's when any
    /// region starts on it (the cluster was founded by that release, and no store has
    /// recorded more), else the newest (`paynode init` of this release).
    var foundingWire: UInt8 {
        options.previousReleaseRegions.isEmpty ? WireVersion.current : Self.previousRelease.upperBound
    }

    /// An empty data folder (a wiped or lost one, or a joining region's `paynode init
    /// --join` store). As in the node, a store not made by plain `paynode init` reads the
    /// oldest format the binary speaks (3) until a peer's HELLO or PING reports the
    /// cluster's, whatever format the cluster runs; and it holds none of the region's own
    /// history until every peer has said which of its writes it holds.
    func emptyStorage() -> InMemoryStorage {
        var storage = InMemoryStorage()
        storage.wireActive = WireVersion.supported.lowerBound
        storage.ownHistoryComplete = false
        return storage
    }

    /// Puts the regions that start on the release before on it, and every store on the
    /// founding format (called once, before any region starts).
    func setUpReleases() {
        for r in options.previousReleaseRegions where regions.indices.contains(r) {
            regions[r].wireVersions = Self.previousRelease
        }
        for r in regions.indices { regions[r].store.committed.wireActive = foundingWire }
        releases.onPrevious = regionsOnPreviousRelease
    }

    /// Regions of the cluster whose binary speaks only the release before's format (a
    /// retired region is none: the cluster no longer counts it).
    var regionsOnPreviousRelease: Int {
        regions.filter { !$0.retired && $0.wireVersions.upperBound < WireVersion.current }.count
    }

    /// A region starts: it runs the binary installed last (an upgrade's).
    func takeInstalledRelease(_ r: Int) {
        guard let next = regions[r].installed else { return }
        regions[r].installed = nil
        regions[r].wireVersions = next
        releases.onPrevious = regionsOnPreviousRelease
        timeline.append(
            TimelineMark(atMicros: now, region: r, label: "runs wire formats \(next.lowerBound)-\(next.upperBound)"))
    }

    /// One step of a rolling upgrade: the next release is installed, the region drains
    /// and exits (as at SIGTERM), and starts again on it from its store after `down`.
    /// Like an operator, it waits (retrying each second) until the region is up and no
    /// other region is down; it is dropped once the run heals. Whatever stops the process
    /// (a crash while it drains), the next start runs the installed binary.
    func upgrade(_ r: Int, downMicros down: UInt64) {
        let current = regions[r].installed ?? regions[r].wireVersions
        let next = Self.nextRelease(after: current)
        guard !regions[r].lost, next != current else { return }
        guard !healing else {
            timeline.append(TimelineMark(atMicros: now, region: r, label: "upgrade not done before the heal"))
            return
        }
        guard let shell = regions[r].shell, !anotherRegionOut(r) else {
            schedule(.fault(.upgrade(r, downMicros: down)), in: 1_000_000)
            return
        }
        regions[r].installed = next
        stats.upgrades += 1
        drainAndRestart(r, shell, down: down, label: "upgrade: SIGTERM")
    }

    /// The link format two regions agree on (nil: none, and they never connect).
    func negotiatedWire(_ a: Int, _ b: Int) -> UInt8? {
        WireVersion.negotiate(regions[a].wireVersions, regions[b].wireVersions)
    }

    // MARK: Checks

    /// Safety: no region turns the newest format on (in its engine or its store) while
    /// any region's binary speaks only the release before's; the gate needs every region
    /// to have announced the newest format itself. Run after every event that can raise
    /// it at `r` (a delivery, a callback) while some region is on the release before.
    func checkWireGate(_ r: Int) {
        guard releases.onPrevious > 0, !releases.gateViolated, !regions[r].lost, !regions[r].retired else { return }
        let engine = regions[r].shell?.engine.wireActive ?? 0
        let stored = regions[r].store.committed.wireActive
        guard max(engine, stored) >= WireVersion.current else { return }
        releases.gateViolated = true
        let previous = regions.indices.filter {
            !regions[$0].retired && regions[$0].wireVersions.upperBound < WireVersion.current
        }
        violations.append(
            SimViolation(
                kind: .safety,
                message:
                    "\(regionIDs[r]) turned wire format \(max(engine, stored)) on (engine \(engine), store \(stored)) "
                    + "at \(now / 1_000) ms while \(previous.map { regionIDs[$0].name }.joined(separator: ", ")) "
                    + "still ran the release before (format \(Self.previousRelease.upperBound) only)"))
    }

    /// The gate check at every region (each status sample, each fault).
    func checkWireGateEverywhere() {
        guard releases.onPrevious > 0 else { return }
        for r in regions.indices { checkWireGate(r) }
    }

    /// The shell reports the active format rose at `r`.
    func noteWireRaised(_ r: Int, to version: UInt8) {
        if stats.wireGateOpenedMillis == 0 { stats.wireGateOpenedMillis = now / 1_000 }
        probes.wireFormatRaised = true
        timeline.append(TimelineMark(atMicros: now, region: r, label: "wire format \(version) on"))
        checkWireGate(r)
    }

    /// For convergence: once every region runs a binary speaking the newest format, every
    /// live region must have turned it on: a wiped or added region's store starts at the
    /// oldest format and must adopt the cluster's from its peers. Always true while a
    /// region runs the release before, or when one that started on it was lost (which
    /// holds the gate shut for good).
    var wireSettled: Bool {
        guard options.previousReleaseRegions.isEmpty || lossTimes.isEmpty,
            memberRegions.allSatisfy({ regions[$0].wireVersions.upperBound == WireVersion.current })
        else { return true }
        return liveRegions.allSatisfy { regions[$0].shell?.engine.wireActive == WireVersion.current }
    }

    /// Liveness, at the end: with `expect_wire_active`, every live region reports at
    /// least that active format (the gate opened once the last region ran this release).
    func checkWireExpectation(live: [Int]) {
        guard let expected = options.expectWireActive else { return }
        for r in live {
            let active = regions[r].shell?.engine.wireActive ?? regions[r].store.committed.wireActive
            guard active < expected else { continue }
            let release = regions[r].wireVersions
            violations.append(
                SimViolation(
                    kind: .liveness,
                    message:
                        "\(regionIDs[r]) ends with wire format \(active) active, expected \(expected) "
                        + "(it runs formats \(release.lowerBound)-\(release.upperBound); "
                        + (releases.onPrevious > 0
                            ? "\(releases.onPrevious) regions still run the release before)"
                            : "every region runs this release)")))
        }
    }
}
