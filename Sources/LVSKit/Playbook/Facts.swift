/// The values playbooks refer to, per role, derived from a validated inventory. Every value here
/// is typed and validated (addresses, ports, interface names) except the test page text, which
/// templates shell-quote like everything else.
enum Facts {
    static let webRoot = "/var/lib/lvsctl/www"

    static func director(_ inventory: Inventory) -> [String: Any] {
        let director = inventory.director
        let vips = uniqueVIPs(inventory.services)
        var facts: [String: Any] = [
            "mode": inventory.mode.rawValue,
            "director": ["interface": director.interface, "inner_interface": director.innerInterface ?? "",
                         "dip": director.dip.address.description],
            "redirect_interfaces": ["all", "default", director.interface] + (director.innerInterface.map { [$0] } ?? []),
            "vips": vips.filter { !$0.isV6 }.enumerated().map { index, vip in
                ["vip": vip.description, "prefix": "32", "label": "\(director.interface):\(index)"]
            },
            "services": inventory.services.map { service -> [String: Any] in
                let ipvs = IPVSService(service, mode: inventory.mode)
                return ["title": ipvs.key.description, "service": ipvs]
            },
            "mark_rules": inventory.services.compactMap { service -> [String: Any]? in
                guard case let .firewallMark(mark) = service.address else { return nil }
                return ["vip": service.vip.description, "mark": String(mark),
                        "rule": ["-d", "\(service.vip)/\(service.vip.bitCount)", "-j", "MARK", "--set-mark", String(mark)]]
            },
            "dos": [("drop_entry", inventory.options.dropEntry), ("drop_packet", inventory.options.dropPacket),
                    ("secure_tcp", inventory.options.secureTCP)].compactMap { key, value in
                value.map { ["path": "net/ipv4/vs/\(key)", "value": String($0)] }
            },
            "flush_nat": inventory.options.flushNAT,
            "selinux_permissive": inventory.options.selinuxPermissive,
            "persist": inventory.options.persist,
            "ipvs_rules": inventory.services.flatMap { IPVSAdm.saveLines(IPVSService($0, mode: inventory.mode)) }.joined(separator: "\n"),
            "sysctl_conf": (["net.ipv4.ip_forward = 1"] + (inventory.mode == .nat
                ? (["all", "default", director.interface] + (director.innerInterface.map { [$0] } ?? []))
                    .map { "net.ipv4.conf.\($0).send_redirects = 0" } : [])).joined(separator: "\n"),
        ]
        if let network = inventory.options.masquerade {
            facts["masquerade"] = network.network
            facts["masquerade_rule"] = ["-s", network.network, "-j", "MASQUERADE"]
        }
        return facts
    }

    static func realServer(_ inventory: Inventory, host: String) -> [String: Any] {
        let services = inventory.services.filter { $0.realServers.contains { $0.host == host } }
        let servers = services.flatMap(\.realServers).filter { $0.host == host }
        var ports: [Int] = []
        var listeners: [[String: String]] = []
        for (service, server) in zip(services, services.map { s in s.realServers.first { $0.host == host }! }) {
            guard case let .socket(proto, _, _) = service.address else { continue }
            // The application must already listen where traffic for the service arrives.
            let listener = ["protocol": proto.rawValue, "port": String(server.port), "filter": "sport = :\(server.port)"]
            if server.port > 0 && !listeners.contains(listener) { listeners.append(listener) }
            if proto == .udp { continue }
            let port = server.port == 0 ? 80 : server.port
            if !ports.contains(port) { ports.append(port) }
        }
        let pages = inventory.servesTestPage(host)
        return [
            "mode": inventory.mode.rawValue,
            "name": host,
            "rip": servers.first.map { "\($0.rip)" } ?? "",
            "page": inventory.page(for: host),
            "dip": inventory.director.dip.address.description,
            "vips": uniqueVIPs(services).filter { !$0.isV6 }.enumerated().map { index, vip in
                ["vip": vip.description, "prefix": "32", "label": "lo:\(index)"]
            },
            "web": pages ? ports.map { ["port": String($0), "root": "\(webRoot)/\($0)", "pidfile": "/var/lib/lvsctl/httpd-\($0).pid"] } : [],
            "listeners": pages ? [] : listeners,
        ]
    }

    static func uniqueVIPs(_ services: [VirtualService]) -> [IPAddress] {
        var seen: [IPAddress] = []
        for service in services where !seen.contains(service.vip) { seen.append(service.vip) }
        return seen
    }
}
