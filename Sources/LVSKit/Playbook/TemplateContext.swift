/// The template context: the values playbooks and templates refer to (their "facts"), per
/// role, derived from the desired cluster. Every value here is typed and validated (addresses,
/// ports, interface names) except the test page text, which templates shell-quote like
/// everything else.
enum TemplateContext {
    static let webRoot = "/var/lib/lvsctl/www"

    static let keepalivedRunDirectory = "/var/lib/lvsctl/keepalived"

    /// `director`: one of the inventory's directors (the first when nil).
    static func director(_ desired: DesiredCluster, director: Director? = nil) -> [String: Any] {
        let inventory = desired.inventory
        let director = director ?? inventory.director
        let vips = desired.vips.map(\.address)
        // With keepalived, it makes the IPVS table (and, with VRRP, holds the VIPs); lvsctl
        // only provisions it.
        let keepalived = inventory.usesKeepalived
        var facts: [String: Any] = [
            "mode": inventory.mode.rawValue,
            "director": ["interface": director.interface, "inner_interface": director.innerInterface ?? "",
                         "dip": director.dip.address.description],
            "redirect_interfaces": ["all", "default", director.interface] + (director.innerInterface.map { [$0] } ?? []),
            "vips": inventory.vipsHeldByVRRP ? [] : addresses(desired.vips, device: director.interface),
            "ipv6_forwarding": inventory.mode == .nat && vips.contains(where: \.isV6),
            "schedulers": inventory.services.map(\.scheduler.rawValue).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } },
            "services": keepalived ? [] : desired.ipvsServices.map { ipvs -> [String: Any] in
                ["title": ipvs.key.description, "service": ipvs]
            },
            // Only the ports the service names get its mark: the VIP's other traffic is not its.
            "mark_rules": inventory.services.compactMap { service -> [String: Any]? in
                guard case let .firewallMark(mark) = service.address else { return nil }
                let ports = service.markPorts.map(String.init).joined(separator: ",")
                return ["vip": service.vip.description, "mark": String(mark), "command": service.vip.isV6 ? "ip6tables" : "iptables",
                        "ports": ports,
                        "rule": ["-d", "\(service.vip)/\(service.vip.bitCount)", "-p", service.markProtocol.rawValue, "-m", "multiport",
                                 "--dports", ports, "-j", "MARK", "--set-mark", String(mark)]]
            },
            "dos": [("drop_entry", inventory.options.dropEntry), ("drop_packet", inventory.options.dropPacket),
                    ("secure_tcp", inventory.options.secureTCP)].compactMap { key, value in
                value.map { ["path": "net/ipv4/vs/\(key)", "value": String($0)] }
            },
            "flush_nat": inventory.options.flushNAT,
            "selinux_permissive": inventory.options.selinuxPermissive,
            "persist": inventory.options.persist,
            "persist_ipvs": inventory.options.persist && !keepalived,
            "with_keepalived": keepalived,
            "keepalived_conf": keepalived ? KeepalivedConfig.render(desired, director: director) : "",
            "keepalived_run": keepalivedRunDirectory,
            "ipvs_rules": desired.ipvsServices.flatMap(IPVSAdm.saveLines).joined(separator: "\n"),
            "sysctl_conf": (["net.ipv4.ip_forward = 1"] + (inventory.mode == .nat && vips.contains(where: \.isV6) ? ["net.ipv6.conf.all.forwarding = 1"] : [])
                + (inventory.mode == .nat
                ? (["all", "default", director.interface] + (director.innerInterface.map { [$0] } ?? []))
                    .map { "net.ipv4.conf.\($0).send_redirects = 0" } : [])).joined(separator: "\n"),
        ]
        if let network = inventory.options.masquerade {
            facts["masquerade"] = network.network
            facts["masquerade_rule"] = ["-s", network.network, "-j", "MASQUERADE"]
        }
        return facts
    }

    static func realServer(_ desired: DesiredCluster, host: String) -> [String: Any] {
        let inventory = desired.inventory, hosts = desired.realServerHosts
        // The host's first entry in each of its services (a host twice in one service is refused).
        var entries: [RealServerHosts.Entry] = []
        for entry in hosts.entries[host] ?? [] where entries.last?.service != entry.service { entries.append(entry) }
        let services = entries.map { inventory.services[$0.service] }
        let servers = hosts.servers(of: host)
        // Where the service's traffic reaches this host: (protocol, port) in first-seen order.
        // A port-0 service (all ports, persistent) gets its test page on 80, and no check that
        // something listens (which port would it be?).
        var endpoints: [(proto: ServiceProtocol, port: Int, checked: Bool)] = []
        for (service, entry) in zip(services, entries) {
            let server = entry.server
            let allPorts = server.port == 0 && !service.address.isMark
            let ports = server.port != 0 ? [server.port] : service.address.isMark ? service.markPorts : service.transport == .tcp ? [80] : []
            for port in ports where !endpoints.contains(where: { $0.proto == service.transport && $0.port == port }) {
                endpoints.append((service.transport, port, !allPorts))
            }
        }
        let pages = hosts.servesTestPage(host)
        func page(_ port: Int) -> [String: String] {
            ["port": String(port), "root": "\(webRoot)/\(port)", "pidfile": "/var/lib/lvsctl/httpd-\(port).pid"]
        }
        let tcp = endpoints.filter { $0.proto == .tcp }.map(\.port), udp = endpoints.filter { $0.proto == .udp }.map(\.port)
        var gateways = [["gateway": inventory.natGateway.description, "family": "-4"]]
        if let dip6 = inventory.director.dip6, services.contains(where: \.vip.isV6) {
            gateways.append(["gateway": dip6.address.description, "family": "-6"])
        }
        return [
            "mode": inventory.mode.rawValue,
            "name": host,
            "rip": servers.first.map { "\($0.rip)" } ?? "",
            "page": hosts.page(for: host),
            "dip": inventory.director.dip.address.description,
            "gateways": gateways,
            "vips": addresses(VIPAddress.numbered(services.map(\.vip)), device: "lo"),
            "pages": pages ? (tcp + udp.filter { !tcp.contains($0) }).map(page) : [],
            "web": pages ? tcp.map(page) : [],
            "udp": pages ? udp.map { port in page(port).merging(["pidfile": "/var/lib/lvsctl/udp-\(port).pid"]) { $1 } } : [],
            "listeners": pages ? [] : endpoints.filter(\.checked).map { ["protocol": $0.proto.rawValue, "port": String($0.port), "filter": "sport = :\($0.port)"] },
        ]
    }

    /// A VIP per entry, on `device`: IPv4 with its alias label (`lo:0`), IPv6 without.
    static func addresses(_ vips: [VIPAddress], device: String) -> [[String: String]] {
        vips.map { vip in
            var entry = ["vip": vip.address.description, "prefix": String(vip.prefix), "family": vip.address.isV6 ? "-6" : "-4"]
            entry["label"] = vip.label(on: device)
            return entry
        }
    }
}
