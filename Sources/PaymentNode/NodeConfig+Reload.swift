import ReplicaTransport

extension NodeConfig {
    /// This running config with the keys a reload applies taken from `new`: `peers` (regions
    /// added, new addresses; a region left out only when it moved to `retired`), `retired`,
    /// `api.keys`, `api.key_sha256`, `tls.ca`, `tls.certificate`, `tls.key`, and `api.tls.*` when
    /// the API serves HTTPS both before and after. Every other key keeps its running
    /// value (`restartOnlyDifferences` names those that differ).
    public func reloaded(from new: NodeConfig) -> NodeConfig {
        var reloaded = self
        reloaded.apiKeys = new.apiKeys
        reloaded.tls = new.tls
        for (region, address) in new.peers { reloaded.peers[region] = address }
        for region in new.engine.retired { reloaded.peers[region] = nil }
        reloaded.engine.peers = reloaded.peers.keys.sorted()
        reloaded.engine.retired = Array(Set(engine.retired).union(new.engine.retired)).sorted()
        if apiTLS != nil, new.apiTLS != nil { reloaded.apiTLS = new.apiTLS }
        return reloaded
    }

    /// The keys whose value in `new` differs from this running config's and that only a
    /// restart applies, by their names in the file.
    public func restartOnlyDifferences(_ new: NodeConfig) -> [String] {
        var keys: [String] = []
        func check(_ key: String, _ same: Bool) { if !same { keys.append(key) } }
        check("region", region == new.region)
        check("data_dir", dataDirectory == new.dataDirectory)
        check("api.listen", apiListen == new.apiListen)
        check("api.tls / api.plain_http (HTTPS on or off)", (apiTLS == nil) == (new.apiTLS == nil))
        check("api.body_bytes_max", bodyBytesMax == new.bodyBytesMax)
        check("api.session_wait_ms", sessionWaitMillis == new.sessionWaitMillis)
        check("peer_listen", peerListen == new.peerListen)
        // Regions added, a peer's new address, and a peer moved to `retired` apply at
        // once; a region simply left out needs a restart, and a retirement is never undone.
        check(
            "peers (a region left out, not moved to retired)",
            Set(new.peers.keys).union(new.engine.retired).isSuperset(of: peers.keys))
        check("retired (a retirement is never undone)", Set(new.engine.retired).isSuperset(of: engine.retired))
        check("durability", defaultDurability == new.defaultDurability)
        var tuning = new.engine
        tuning.peers = engine.peers  // the regions are `peers` and `retired`, checked above
        tuning.retired = engine.retired
        check("tuning", engine == tuning)
        check("log.format", logFormat == new.logFormat)
        check("log.access", accessLog == new.accessLog)
        check("events.keep", eventsKept == new.eventsKept)
        check("tracing", tracing == new.tracing)
        return keys
    }
}
