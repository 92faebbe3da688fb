/// Mistakes operators make that each piece alone would let through: a sorry server that cannot
/// answer, a check that cannot run, two hosts given one address, a mark that takes a port
/// another service expects.
extension InventoryValidator {
    static func validateMistakes(_ inventory: Inventory, _ report: (SourceLocation, InventoryProblem) -> Void) {
        var dips: [IPAddress: String] = [:]
        for director in inventory.directors {
            for address in [director.dip.address] + (director.dip6.map { [$0.address] } ?? []) {
                if let other = dips[address], other != director.host { report(director.location, .duplicateDIP(address, other: other)) }
                dips[address] = dips[address] ?? director.host
            }
        }
        if let vrrp = inventory.vrrp, let gateway = vrrp.gateway?.address {
            if let director = dips[gateway] {
                report(vrrp.location, .gatewayTaken(gateway, by: "the DIP of director '\(director)'"))
            } else if let server = inventory.services.lazy.flatMap(\.realServers).first(where: { $0.rip == gateway }) {
                report(vrrp.location, .gatewayTaken(gateway, by: "the RIP of real server '\(server.host)'"))
            }
        }
        // Host addresses the inventory gives as IP addresses (names are resolved only later).
        var hostAddresses: [IPAddress: String] = [:]
        for host in inventory.hosts {
            if case let .success(address) = IPAddress.parse(host.address), hostAddresses[address] == nil { hostAddresses[address] = host.name }
        }
        // Ports each VIP's port services expect, for the firewall-mark services on the same VIP.
        var portServices: [String: String] = [:]
        for service in inventory.services {
            if case let .socket(proto, vip, port) = service.address { portServices["\(vip) \(proto.rawValue) \(port)"] = service.address.description }
        }
        for service in inventory.services {
            // (A VIP that is a DIP or one of its own RIPs has its own, more precise rule.)
            if let host = hostAddresses[service.vip], dips[service.vip] == nil, !service.realServers.contains(where: { $0.rip == service.vip }) {
                report(service.location, .vipIsHostAddress(service.vip, host: host))
            }
            if let check = service.healthCheck, check.kind == .http, service.transport == .udp {
                report(check.location, .httpCheckOnUDP(service.address.description))
            }
            if case let .firewallMark(mark) = service.address {
                for port in service.markPorts {
                    if let other = portServices["\(service.vip) \(service.markProtocol.rawValue) \(port)"] {
                        report(service.location, .markTakesPort(mark: mark, port: port, vip: service.vip, other: other))
                    }
                }
            }
            if let sorry = service.sorryServer {
                if sorry.rip == service.vip {
                    report(sorry.location, .sorryServer(.isTheVIP(service.vip)))
                } else if inventory.mode == .directRouting, let dip = [inventory.director.dip] .first(where: { $0.address.family == sorry.rip.family }),
                          !dip.contains(sorry.rip) {
                    report(sorry.location, .sorryServer(.otherNetwork(sorry.rip, network: dip.network)))
                }
                if inventory.mode != .nat, !service.address.isMark, sorry.port != service.port {
                    report(sorry.location, .sorryServer(.otherPort(sorry.port, service: service.port, mode: inventory.mode)))
                }
            }
        }
    }
}

/// Why a sorry server cannot answer for its service.
public enum SorryServerProblem: Sendable, Equatable {
    case isTheVIP(IPAddress)
    case otherNetwork(IPAddress, network: String)
    case otherPort(Int, service: Int, mode: ForwardingMode)

    var message: String {
        switch self {
        case let .isTheVIP(vip):
            return "the sorry server \(vip) is the VIP itself: the director would send the clients back to itself. Give the address of a host that serves the sorry page"
        case let .otherNetwork(rip, network):
            return "the sorry server \(rip) is not in the director's network \(network): in DR the director reaches it as it reaches a real server, on their shared layer-2 network. Give a host on \(network), or use NAT"
        case let .otherPort(port, service, mode):
            return "the sorry server's port \(port) differs from the service's port \(service): \(mode == .directRouting ? "DR" : "TUN") cannot map ports. Serve the sorry page on port \(service), or use NAT"
        }
    }
}
