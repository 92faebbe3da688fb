/// Rules for the keepalived parts: a director pair that can share the VIP, health checks that can
/// run, sorry servers that are not real servers.
extension InventoryValidator {
    static func validateKeepalived(_ inventory: Inventory, _ report: (SourceLocation, InventoryProblem) -> Void) {
        let directors = inventory.directors
        if directors.count > 1, inventory.vrrp == nil, inventory.bgp == nil { report(directors[1].location, .directorsWithoutVRRP(count: directors.count)) }
        var seen: [String: SourceLocation] = [:]
        var priorities: [Int: String] = [:]
        for (index, director) in directors.enumerated() {
            if let first = seen[director.host] {
                report(director.location, .duplicateDirector(director.host, firstLine: first.line))
                continue
            }
            seen[director.host] = director.location
            let priority = KeepalivedConfig.priority(of: director, at: index)
            if inventory.bgp == nil, let other = priorities[priority] { report(director.location, .priorityTie(host: director.host, other: other, priority: priority)) }
            priorities[priority] = director.host
            // The VIP moves between the directors by ARP: in DR and NAT they share the real
            // servers' network, which is where their DIPs are.
            if index > 0, inventory.mode != .tunnel, !directors[0].dip.contains(director.dip.address) {
                report(director.location, .directorsApart(host: director.host, network: directors[0].dip.network, other: directors[0].host))
            }
        }
        if let vrrp = inventory.vrrp, inventory.mode == .nat {
            if let gateway = vrrp.gateway {
                if !directors[0].dip.contains(gateway.address) {
                    report(vrrp.location, .gatewayOutsideDIP(gateway: gateway.address, network: directors[0].dip.network))
                }
            } else if directors.count > 1 {
                report(vrrp.location, .natPairWithoutGateway)
            }
        }
        for service in inventory.services {
            if let check = service.healthCheck, check.kind != .none, check.port == nil, case let .firewallMark(mark) = service.address,
               service.realServers.contains(where: { $0.port == 0 }) {
                report(check.location, .healthCheckWithoutPort(mark: mark))
            }
            if let sorry = service.sorryServer,
               service.realServers.contains(where: { $0.host == sorry.host || ($0.rip == sorry.rip && $0.port == sorry.port) }) {
                report(sorry.location, .sorryServerIsRealServer(host: sorry.host))
            }
            if let sorry = service.sorryServer, inventory.director(named: sorry.host) != nil {
                report(sorry.location, .directorIsRealServer(sorry.host))
            }
        }
    }
}
