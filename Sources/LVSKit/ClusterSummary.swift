/// The one-screen summary `lvsctl check` prints.
public enum ClusterSummary {
    public static func text(_ inventory: Inventory) -> String {
        let director = inventory.director
        var lines = ["\(inventory.file): OK",
                     "mode \(inventory.mode.rawValue.uppercased()) (ipvsadm \(IPVSAdm.flag(inventory.mode))), director \(director.host) (\(inventory.host(named: director.host)?.address ?? "?")), DIP \(director.dip)\(director.dip6.map { " and \($0)" } ?? "") on \(director.innerInterface ?? director.interface), VIPs on \(director.interface)"]
        for service in inventory.services {
            var head = "  \(service.address)  vip \(service.vip)  scheduler \(service.scheduler.rawValue)"
            if service.address.isMark { head += "  marks \(service.markProtocol.rawValue) ports \(service.markPorts.map(String.init).joined(separator: ","))" }
            if let p = service.persistence { head += "  persistent \(p)s" }
            lines.append(head)
            for server in service.realServers {
                var line = "    -> \(server.host) \(server.rip.withPort(server.port)) weight \(server.weight)"
                if server.upperThreshold > 0 || server.lowerThreshold > 0 { line += " thresholds \(server.lowerThreshold)-\(server.upperThreshold)" }
                lines.append(line)
            }
        }
        if let client = inventory.client { lines.append("client: \(client)") }
        return lines.joined(separator: "\n")
    }
}
