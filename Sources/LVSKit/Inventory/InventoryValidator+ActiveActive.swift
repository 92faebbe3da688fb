/// Rules for active-active directors (`bgp:`): what every director must compute alike so that a
/// flow the routers move from one director to another reaches the same real server.
extension InventoryValidator {
    static func validateActiveActive(_ inventory: Inventory, _ report: (SourceLocation, InventoryProblem) -> Void) {
        guard let bgp = inventory.bgp else {
            for director in inventory.directors where director.drained { report(director.location, .directorDrainWithoutBGP(host: director.host)) }
            return
        }
        if inventory.directors.allSatisfy(\.drained), let last = inventory.directors.last { report(last.location, .everyDirectorDrained) }
        if let vrrp = inventory.vrrp { report(vrrp.location, .bgpWithVRRP) }
        if inventory.mode == .nat { report(bgp.location, .activeActiveNAT) }
        var routerIDs: [IPAddress: String] = [:]
        for director in inventory.directors {
            let id = inventory.routerID(of: director)
            if id.isV6 { report(director.location, .routerIDNeeded(host: director.host)); continue }
            if let other = routerIDs[id] { report(director.location, .duplicateRouterID(id, host: director.host, other: other)) }
            routerIDs[id] = routerIDs[id] ?? director.host
        }
        // Each director's host address, read once for every peer.
        let hostAddresses = inventory.directors.compactMap { director in
            inventory.host(named: director.host).flatMap { try? IPAddress.parse($0.address).get() }.map { (director.host, $0) }
        }
        for peer in bgp.peers {
            if let director = inventory.directors.first(where: { $0.dip.address == peer.address })?.host
                ?? hostAddresses.first(where: { $0.1 == peer.address })?.0 {
                report(peer.location, .peerIsDirector(peer.address, host: director))
            }
        }
        for service in inventory.services {
            if service.vip.isV6 { report(service.location, .activeActiveIPv6(service.vip)) }
            guard service.scheduler == .mh else {
                report(service.location, .activeActiveScheduler(service.address.description, service.scheduler))
                continue
            }
            if !service.schedulerFlags.contains(.port) { report(service.location, .activeActiveWithoutMHPort(service.address.description)) }
            if !service.schedulerFlags.contains(.fallback) {
                for server in service.realServers where server.weight == 0 {
                    report(server.location, .drainWithoutFallback(host: server.host, service: service.address.description))
                }
            }
        }
    }
}
