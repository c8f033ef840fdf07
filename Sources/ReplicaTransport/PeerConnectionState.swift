import ReplicaCore

/// One peer connection's life, as its channel handler drives it: the TLS handshake, the
/// peer's certificate verified (naming a region), its HELLO, then messages. Pure: the
/// handler feeds it what happened and carries out what it answers, so every rule of a
/// connection is here, testable without sockets.
///
/// Rules: a certificate must name a known region (and, on a dialed connection, the one
/// dialed). The first message must be a HELLO claiming that same region. A connection
/// becomes the region's link at once when this side dialed it or the region has none;
/// otherwise (a second connection for a region with a live link) only once its HELLO
/// checks out, so a refused newcomer never drops the live link. Once refused or closed,
/// nothing more is acted on.
struct PeerConnectionState {
    enum Phase: Equatable {
        case handshaking
        /// Verified as `region`, no HELLO yet. `link`: the transport's connection id once
        /// this connection is the region's link (nil while it waits for its HELLO).
        case verified(RegionID, link: UInt64?)
        /// HELLO checked: messages flow on link `link`.
        case greeted(RegionID, link: UInt64)
        /// Refused or closing: what still arrives is dropped.
        case closed
    }

    /// What the handler does next.
    enum Action: Equatable {
        case none
        /// Ask the transport to make this connection the region's link; answer with
        /// `linked(_:)`.
        case link(RegionID)
        /// Hand the message to the transport as from `region` on link `link`.
        case deliver(RegionID, link: UInt64)
        /// Count and log a refusal, then close.
        case refuse(String)
        /// Close without a refusal (the transport said no, or the node stops).
        case close
    }

    /// The region this side dialed (nil for an accepted connection).
    let dialed: RegionID?
    private(set) var phase = Phase.handshaking
    /// A waiting connection's HELLO checked out and asked for the link: once linked, that
    /// HELLO goes up.
    private var helloAwaitsLink = false

    init(dialed: RegionID?) { self.dialed = dialed }

    /// The region this connection is verified as, if it is.
    var region: RegionID? {
        switch phase {
        case .verified(let r, _), .greeted(let r, _): r
        case .handshaking, .closed: nil
        }
    }

    /// The transport's id of this connection's link, once it is one.
    var link: UInt64? {
        switch phase {
        case .verified(_, let l): l
        case .greeted(_, let l): l
        case .handshaking, .closed: nil
        }
    }

    /// TLS is up: `identity` is what the certificate names (or why it names nothing
    /// acceptable); `regionHasLink` whether that region already has a live link.
    mutating func handshakeCompleted(_ identity: Result<RegionID, PeerIdentity.Refusal>, regionHasLink: Bool) -> Action
    {
        guard phase == .handshaking else { return .none }
        switch identity {
        case .failure(let refusal):
            return refuse(refusal.description)
        case .success(let named):
            if let dialed, named != dialed { return refuse("dialed \(dialed) but its certificate names \(named)") }
            phase = .verified(named, link: nil)
            return dialed == nil && regionHasLink ? .none : .link(named)
        }
    }

    /// The transport's answer to `.link`: the link's id, or nil (stopping, disabled).
    mutating func linked(_ id: UInt64?) -> Action {
        guard let id else {
            phase = .closed
            return .close
        }
        guard case .verified(let region, nil) = phase else { return .none }
        if helloAwaitsLink {
            helloAwaitsLink = false
            phase = .greeted(region, link: id)
            return .deliver(region, link: id)
        }
        phase = .verified(region, link: id)
        return .none
    }

    /// A message arrived.
    mutating func received(_ message: PeerMessage) -> Action {
        switch phase {
        case .closed:
            return .none
        case .handshaking:
            return refuse("message before the peer's certificate was verified")
        case .greeted(let region, let link):
            return .deliver(region, link: link)
        case .verified(let region, let link):
            guard case .hello(let claimed, _, _) = message else {
                return refuse("first message is \(message.kind), not HELLO")
            }
            guard claimed == region else {
                return refuse("HELLO claims region \(claimed) but the certificate names \(region)")
            }
            guard let link else {
                // A waiting connection: its HELLO checked out, so it takes over the link;
                // `linked` then answers `.deliver` for this HELLO.
                helloAwaitsLink = true
                return .link(region)
            }
            phase = .greeted(region, link: link)
            return .deliver(region, link: link)
        }
    }

    /// The handshake failed, or the handler closes for its own reasons.
    mutating func refuse(_ reason: String) -> Action {
        guard phase != .closed else { return .none }
        phase = .closed
        return .refuse(reason)
    }

    /// Closing without a refusal (e.g. a TLS swap during the handshake).
    mutating func close() { phase = .closed }
}
