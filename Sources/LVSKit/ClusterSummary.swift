/// The one-screen summary `lvsctl check` prints.
public enum ClusterSummary {
    public static func text(_ inventory: Inventory) -> String {
        let director = inventory.director
        var lines = ["\(inventory.file): OK",
                     "mode \(inventory.mode.rawValue.uppercased()) (ipvsadm \(IPVSAdm.flag(inventory.mode))), director \(director.host) (\(inventory.host(named: director.host)?.address ?? "?")), DIP \(director.dip)\(director.dip6.map { " and \($0)" } ?? "") on \(director.innerInterface ?? director.interface), VIPs on \(inventory.isActiveActive ? "lo" : director.interface)"]
        for (index, other) in inventory.directors.enumerated() where index > 0 {
            lines.append("director \(other.host) (\(inventory.host(named: other.host)?.address ?? "?")), DIP \(other.dip)")
        }
        if let bgp = inventory.bgp {
            let ids = inventory.directors.map { "\($0.host) \(inventory.routerID(of: $0))" }.joined(separator: ", ")
            let peers = bgp.peers.map { "\($0.address) AS \($0.remoteAS)" }.joined(separator: ", ")
            lines.append("active-active: every director announces the VIPs over BGP (bird2, AS \(bgp.localAS), hold \(bgp.holdSeconds) s\(bgp.bfd ? ", BFD" : "")) to \(peers); router ids \(ids)")
            let drained = inventory.directors.filter(\.drained).map(\.host)
            if !drained.isEmpty { lines.append("drained (announcing nothing): \(drained.joined(separator: ", "))") }
        }
        if let vrrp = inventory.vrrp {
            let priorities = inventory.directors.enumerated().map { "\($1.host) \(KeepalivedConfig.priority(of: $1, at: $0))" }.joined(separator: ", ")
            lines.append("keepalived VRRP router \(vrrp.routerID) (v\(vrrp.version), advert \(vrrp.advertInterval) s, \(vrrp.preempt ? "preempt" : "nopreempt")\(vrrp.sync ? ", connection sync" : "")): priority \(priorities)")
        } else if inventory.usesKeepalived {
            lines.append("keepalived makes the IPVS table (health checks)")
        }
        for service in inventory.services {
            var head = "  \(service.address)  vip \(service.vip)  scheduler \(service.scheduler.rawValue)"
            if let flags = service.schedulerFlagsText { head += " (\(flags))" }
            if service.address.isMark { head += "  marks \(service.markProtocol.rawValue) ports \(service.markPorts.map(String.init).joined(separator: ","))" }
            if let p = service.persistence { head += "  persistent \(p)s" }
            lines.append(head)
            for server in service.realServers {
                var line = "    -> \(server.host) \(server.rip.withPort(server.port)) weight \(server.weight)"
                if server.upperThreshold > 0 || server.lowerThreshold > 0 { line += " thresholds \(server.lowerThreshold)-\(server.upperThreshold)" }
                lines.append(line)
            }
            if let check = service.healthCheck {
                lines.append("    health check \(check.kind.rawValue)\(check.kind == .http ? " \(check.path)" : "") every \(check.interval) s, down after \(check.retries) failed (at most \(check.worstDetectionSeconds) s)\(check.inhibitOnFailure ? ", weight 0 while down" : "")")
            }
            if let sorry = service.sorryServer { lines.append("    sorry server \(sorry.host) \(sorry.rip.withPort(sorry.port))") }
        }
        if let client = inventory.client { lines.append("client: \(client)") }
        if let timeouts = inventory.options.timeouts { lines.append("IPVS timeouts: \(timeouts.words) (ipvsadm --set)") }
        return lines.joined(separator: "\n")
    }
}
