import Foundation
import Logging
import PaymentsWire
import ReplicaCore
import ReplicaTransport

/// What one reload of the configuration did.
public enum ReloadOutcome: Sendable, Equatable {
    /// The new credentials are in use. `changes` says what differs (empty: nothing);
    /// `restartNeeded` names keys that differ but were left as they were; `linksClosed`
    /// are the peers whose link closed because their certificate no longer chains.
    case applied(changes: [String], restartNeeded: [String], linksClosed: [RegionID])
    /// Nothing changed: the node keeps the material it had.
    case failed(reason: String)
}

extension ReplicaNode {
    /// Re-reads `file` (the config the node was started with) and swaps in what can
    /// change while it runs: API keys (`api.keys`, `api.key_sha256`: ids, hashes, scopes,
    /// bounds and limits), the API's certificate and key, the peer CA,
    /// certificate and key, regions added to `peers`, peers' new addresses, and peers
    /// moved to `retired`
    /// (`NodeConfig.reloaded(from:)`). All of it is read and checked
    /// before anything is swapped: a file that is missing or not PEM, a key that is not
    /// its certificate's, a peer certificate that does not name this region or does not
    /// chain to the new CA, a config that no longer parses (an unknown scope, a bad or
    /// duplicate key id or hash included): the reload fails, is logged, and the node keeps
    /// serving with what it had.
    ///
    /// Once swapped, new API connections and new peer handshakes use the new material;
    /// API connections already open keep theirs until they close; peer links stay up
    /// unless their peer's certificate does not chain to the new CA
    /// (`PeerTransport.replaceTLS`). Logs one line saying what changed and when the
    /// certificates in use expire, and a warning naming keys that differ but need a
    /// restart (region, addresses, data folder, a region left out of peers, tuning, ...).
    @discardableResult
    public func reload(configFile file: String, now: Date = Date()) async -> ReloadOutcome {
        let new: NodeConfig
        do { new = try NodeConfig.load(file: file) } catch {
            return failed("the config no longer loads: \(error)")
        }
        let restartNeeded = config.restartOnlyDifferences(new)
        let loaded: NodeCredentials
        do { loaded = try NodeCredentials.load(config.reloaded(from: new)) } catch {
            return failed(error.description)
        }
        if let problem = await loaded.ownCertificateProblem(region: config.region, now: now) {
            return failed(problem)
        }
        if !restartNeeded.isEmpty {
            logger.warning(
                "reload: these settings differ from the running ones and need a restart; left as they were",
                metadata: ["reload.restart_needed": "\(restartNeeded.joined(separator: ", "))"])
        }
        let old = credentials.replace(with: loaded)
        let closed = await transport.replaceTLS(loaded.peerTLS, now: now)
        var changes = loaded.changes(from: old)
        changes += await addPeers(new.peers)
        changes += await retirePeers(new.engine.retired)
        var metadata: Logger.Metadata = [
            "reload.changed": "\(changes.isEmpty ? "nothing" : changes.joined(separator: ", "))",
            "reload.links_closed": "\(closed.map(\.name).joined(separator: ","))",
        ]
        for (certificate, expires) in loaded.expiries {
            metadata["tls.\(certificate)_expires"] =
                "\(RFC3339.format(millis: UInt64(max(0, expires.timeIntervalSince1970 * 1_000))))"
        }
        logger.info("configuration reloaded", metadata: metadata)
        config.reloaded(from: new).warnAboutAPIKeys(
            logger, nowMillis: UInt64(max(0, now.timeIntervalSince1970 * 1_000)))
        return .applied(changes: changes, restartNeeded: restartNeeded, linksClosed: closed)
    }

    /// Regions in `peers` this node does not know yet join the cluster (the transport
    /// accepts and dials them, the engine counts them); known ones get their address.
    /// Returns what changed, for the reload's log line.
    func addPeers(_ peers: [RegionID: HostPort]) async -> [String] {
        let known = Set(transport.peerRegions)
        var changes: [String] = []
        for region in peers.keys.sorted() where region != config.region {
            if !known.contains(region) {
                // The engine first: a handshake the transport takes at once must find the
                // region a peer (an engine peer the transport cannot reach yet is harmless).
                do { try await onLoop { $0.addPeer(region) } } catch {
                    logger.error(
                        "reload: the new region could not be added",
                        metadata: ["peer.region": "\(region)", "error": "\(error)"])
                    continue
                }
                logger.notice("region joined the cluster", metadata: ["peer.region": "\(region)"])
                changes.append("peers (\(region) added)")
            }
            transport.addPeer(region, at: peers[region]!)
        }
        return changes
    }

    /// Peers moved to `retired` leave the cluster: the transport stops dialing them and
    /// refuses their certificate from now on (first, so no handshake reaches the engine
    /// after it), then the engine stops waiting for them and records the retirement.
    /// Returns what changed, for the reload's log line.
    func retirePeers(_ retired: [RegionID]) async -> [String] {
        var changes: [String] = []
        for region in retired.sorted() where transport.peerRegions.contains(region) {
            transport.retirePeer(region)
            let lost: UInt64? = try? await onLoop { shell in
                shell.retirePeer(region)
                return shell.engine.status(nowMillis: shell.clock.nowMillis).retired
                    .first { $0.region == region }?.lostEntries
            }
            logger.notice(
                "region retired from the cluster: no longer dialed, awaited or counted",
                metadata: [
                    "peer.region": "\(region)",
                    "retired.lost_entries": "\(lost.map { "\($0)" } ?? "unknown")",
                ])
            changes.append("retired (\(region))")
        }
        return changes
    }

    private func failed(_ problem: String) -> ReloadOutcome {
        // One log line, even when the reason is a YAML parser's multi-line message.
        let reason = problem.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        logger.error("reload failed: kept the running configuration and certificates", metadata: ["error": "\(reason)"])
        return .failed(reason: reason)
    }
}
