/// Rules that need the whole inventory: duplicates, subnets, ports per mode, roles.
enum InventoryValidator {
    static func validate(_ inventory: Inventory) -> [InventoryDiagnostic] {
        var found: [InventoryDiagnostic] = []
        func report(_ location: SourceLocation, _ problem: InventoryProblem) {
            found.append(InventoryDiagnostic(location: location, problem: problem))
        }
        let director = inventory.director
        for each in inventory.directors where inventory.client == each.host {
            report(each.location, .clientIsDirector)
        }
        validateKeepalived(inventory, report)
        validateActiveActive(inventory, report)
        validateMistakes(inventory, report)
        /// A special-purpose address, or the DIP network's own or broadcast address.
        func checkHostAddress(_ address: IPAddress, _ field: String, _ location: SourceLocation) {
            if let reason = address.specialPurpose ?? director.dip.reservedOnThisNetwork(address) {
                report(location, .specialAddress(field: field, address, reason: reason))
            }
        }
        checkHostAddress(director.dip.address, "DIP", director.location)
        var seenServices: [ServiceAddress: SourceLocation] = [:]
        for service in inventory.services {
            if let first = seenServices[service.address] {
                report(service.location, .duplicateService(service.address.description, firstLine: first.line))
            } else {
                seenServices[service.address] = service.location
            }
            if inventory.directors.contains(where: { $0.dip.address == service.vip }) {
                report(service.location, .vipIsDIP(service.vip))
            }
            checkHostAddress(service.vip, "VIP", service.location)
            if service.vip.isV6 {
                if inventory.mode == .tunnel { report(service.location, .tunnelIPv6(service.vip)) }
                if inventory.mode == .nat, director.dip6 == nil { report(service.location, .natIPv6WithoutDIP6(service.vip)) }
            }
            var seenServers: [String: SourceLocation] = [:]
            for server in service.realServers {
                let key = server.rip.withPort(server.port)
                if let first = seenServers[key] {
                    report(server.location, .duplicateRealServer(server.rip, port: server.port, firstLine: first.line))
                }
                seenServers[key] = seenServers[key] ?? server.location
                if server.rip == service.vip { report(server.location, .vipIsRIP(service.vip, host: server.host)) }
                checkHostAddress(server.rip, "RIP", server.location)
                if server.rip.family != service.vip.family { report(server.location, .mixedFamilies(vip: service.vip, rip: server.rip)) }
                if inventory.director(named: server.host) != nil { report(server.location, .directorIsRealServer(server.host)) }
                if inventory.mode != .nat, !service.address.isMark, server.port != service.port {
                    report(server.location, .portMapping(mode: inventory.mode, realPort: server.port, virtualPort: service.port))
                }
                // The DIP of the RIP's family (DR with IPv6 and no dip6: nothing to compare with).
                let dip = [director.dip] + (director.dip6.map { [$0] } ?? [])
                if inventory.mode != .tunnel, let network = dip.first(where: { $0.address.family == server.rip.family }), !network.contains(server.rip) {
                    report(server.location, .notInDIPSubnet(mode: inventory.mode, rip: server.rip, network: network.network))
                }
            }
        }
        var pages: [String: String] = [:]
        let hosts = RealServerHosts(inventory)
        for host in hosts.names {
            let page = hosts.page(for: host)
            if let other = pages[page], let server = hosts.entries[host]?.first(where: { !$0.isSorry })?.server {
                report(server.location, .samePage(host: host, other: other, page: page))
            }
            pages[page] = pages[page] ?? host
        }
        return found
    }
}
