import LVSKit

/// A real server as keepalived holds it on the director clients reach.
public struct RealServerState: Codable, Sendable, Equatable {
    public var service: String
    public var host: String
    public var destination: String
    /// up, down (removed, or weight 0 with inhibit_on_failure), or for a sorry server: in use / standing by.
    public var state: String
    /// When keepalived's checker last added or removed it, if its log says.
    public var since: String?
}

extension StatusReport {
    /// Each service's real servers (and sorry server) as the live table holds them.
    public var realServerStates: [RealServerState] {
        let master = keepalived.first(where: \.holdsVIP) ?? keepalived.first { $0.host == tableHost }
        var states: [RealServerState] = []
        for service in services {
            let key = service.key
            let live = self.live?.service(key)
            for server in service.realServers {
                let name = server.endpoint.description
                let destination = live?.destination(server.endpoint)
                let up = destination != nil && (destination!.weight > 0 || server.weight == 0)
                states.append(RealServerState(service: service.address.description, host: server.host, destination: name,
                                              state: up ? "up" : "down", since: master?.lastChange(of: name, up: up)))
            }
            if let sorry = service.sorryServer {
                let name = sorry.endpoint.description
                let inUse = live?.destination(sorry.endpoint) != nil
                states.append(RealServerState(service: service.address.description, host: sorry.host, destination: name,
                                              state: inUse ? "sorry server in use" : "sorry server standing by", since: nil))
            }
        }
        return states
    }

    var keepalivedLines: [String] {
        var lines = ["==> keepalived"]
        for director in keepalived {
            var line = "  \(director.host)  \(director.role)"
            if let since = director.since, !since.isEmpty { line += " since \(since)" }
            if director.holdsVIP { line += director.vrrp ? "  (holds the VIP)" : "  (health checks only: the VIP is lvsctl's, without VRRP)" }
            lines.append(line)
        }
        for server in realServerStates {
            lines.append("  \(server.service) → \(server.host) \(server.destination)  \(server.state)\(server.since.map { " since \($0)" } ?? "")")
        }
        return lines
    }
}
