/// Active-active directors: every director holds the same IPVS table and announces the VIPs
/// over BGP to the routers, which spread the clients' flows over the directors by ECMP. Each
/// director computes the same Maglev hash (`mh`), so a flow that the routers move to another
/// director reaches the same real server. The speaker is bird2 (see `BirdConfig`).
public struct BGP: Sendable, Equatable {
    /// The directors' own AS number (`local as`), 1–4294967295.
    public var localAS: Int
    public var peers: [BGPPeer]
    /// Hold time in seconds (3–65535); keepalives go every third of it.
    public var holdSeconds = 3
    /// Bidirectional forwarding detection with every peer: a lost director is noticed in a
    /// fraction of a second instead of the hold time.
    public var bfd = false
    public var location: SourceLocation

    public init(localAS: Int, peers: [BGPPeer] = [], location: SourceLocation) {
        self.localAS = localAS
        self.peers = peers
        self.location = location
    }

    public var keepaliveSeconds: Int { max(1, holdSeconds / 3) }
}

/// A router the directors announce the VIPs to.
public struct BGPPeer: Sendable, Equatable {
    public var address: IPAddress
    /// The router's AS (`neighbor … as`): another than `localAS` is eBGP.
    public var remoteAS: Int
    public var location: SourceLocation
}

extension Inventory {
    /// Several directors at once behind the routers' ECMP, each announcing the VIPs over BGP.
    public var isActiveActive: Bool { bgp != nil }

    /// A director's BGP router id: the one the inventory gives, else its DIP (an IPv4 address).
    public func routerID(of director: Director) -> IPAddress { director.routerID ?? director.dip.address }
}
