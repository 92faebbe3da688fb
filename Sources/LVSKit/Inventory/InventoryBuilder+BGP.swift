import Yams

extension InventoryBuilder {
    /// `bgp: { as: 65001, peers: [{ address: 192.168.0.254, as: 65000 }], hold_time: 3, bfd: true }`
    mutating func readBGP(_ node: Node) -> BGP? {
        guard let fields = reader.fields(node, "bgp", allowed: P.bgpKeys) else { return nil }
        guard let asNode = fields["as"] else { reader.report(node, .missingKey("as", in: "'bgp' (the directors' AS number)")); return nil }
        guard let localAS = reader.integer(asNode, "as", in: P.asRange) else { return nil }
        var bgp = BGP(localAS: localAS, location: reader.location(node))
        if let n = fields["peers"], let items = reader.list(n, "peers") {
            bgp.peers = items.compactMap { readPeer($0) }
            if items.isEmpty { reader.report(n, .noBGPPeers) }
        } else if fields["peers"] == nil {
            reader.report(node, .noBGPPeers)
        }
        if let n = fields["hold_time"], let seconds = reader.integer(n, "hold_time", in: 3...65535) { bgp.holdSeconds = seconds }
        if let n = fields["bfd"], let on = reader.flag(n, "bfd") { bgp.bfd = on }
        return bgp
    }

    mutating func readPeer(_ node: Node) -> BGPPeer? {
        guard let fields = reader.fields(node, "peer", allowed: P.peerKeys) else { return nil }
        guard let addressNode = fields["address"] else { reader.report(node, .missingKey("address", in: "a BGP peer")); return nil }
        guard let asNode = fields["as"] else { reader.report(node, .missingKey("as", in: "a BGP peer (the router's AS number)")); return nil }
        guard let address = reader.address(addressNode, "peer address"), let remoteAS = reader.integer(asNode, "as", in: P.asRange) else { return nil }
        return BGPPeer(address: address, remoteAS: remoteAS, location: reader.location(node))
    }
}
