import Mustache

/// The template context: the values playbooks and templates refer to (their "facts"), per role,
/// derived from the desired cluster. Each is a typed value (addresses, ports, flags, lists of
/// typed entries) under the name templates use (`{{item.vip}}`, `mark_rules`): a template that
/// names one renders its text, and a step parameter that is exactly one of them (`address:
/// "{{item.vip}}"`) receives the typed value itself, so no address or number is printed and
/// parsed back on its way to a resource. Only the test page text is free text, which templates
/// shell-quote like everything else.
protocol TemplateFacts: MustacheParent, Sendable {}

/// Facts that are a few named values, each given once in `named` (the template's words).
protocol NamedFacts: TemplateFacts {
    var named: [(String, Any?)] { get }
}

extension NamedFacts {
    func child(named name: String) -> Any? { named.first { $0.0 == name }?.1 ?? nil }
}

enum TemplateContext {
    static let webRoot = "/var/lib/lvsctl/www"

    static let keepalivedRunDirectory = "/var/lib/lvsctl/keepalived"

    /// Where a node exporter lvsctl starts itself (no systemd) keeps its pid file and log.
    static let nodeExporterRunDirectory = "/var/lib/lvsctl/node-exporter"

    /// `director`: one of the inventory's directors (the first when nil); `destinationOrder`:
    /// see `KeepalivedConfig.file`.
    static func director(_ desired: DesiredCluster, director: Director? = nil,
                         destinationOrder: (IPVSServiceKey) -> [Endpoint]? = { _ in nil }) -> DirectorFacts {
        let inventory = desired.inventory
        let director = director ?? inventory.director
        let nat6 = inventory.mode == .nat && desired.vips.contains { $0.address.isV6 }
        // With keepalived, it makes the IPVS table (and, with VRRP, holds the VIPs); lvsctl
        // only provisions it.
        let keepalived = inventory.usesKeepalived
        let interfaces = ["all", "default", director.interface] + (director.innerInterface.map { [$0] } ?? [])
        var schedulers: [String] = []
        for service in inventory.services where !schedulers.contains(service.scheduler.rawValue) { schedulers.append(service.scheduler.rawValue) }
        return DirectorFacts(
            mode: inventory.mode,
            director: .init(interface: director.interface, innerInterface: director.innerInterface ?? "", dip: director.dip.address),
            redirectInterfaces: interfaces,
            // Active-active: the VIP on lo (the routers bring its traffic; no director answers ARP for it).
            vipDevice: inventory.isActiveActive ? "lo" : director.interface,
            vips: inventory.vipsHeldByVRRP ? [] : desired.vips.map { VIPFacts($0, device: inventory.isActiveActive ? "lo" : director.interface) },
            ipv6Forwarding: nat6,
            schedulers: schedulers,
            services: keepalived ? [] : desired.ipvsServices.map { ServiceFacts(title: $0.key.description, service: $0) },
            // Only the ports the service names get its mark: the VIP's other traffic is not its.
            markRules: inventory.services.compactMap { service in
                guard case let .firewallMark(mark) = service.address else { return nil }
                return MarkRuleFacts(vip: service.vip, mark: mark, protocol: service.markProtocol, ports: service.markPorts)
            },
            resetRules: inventory.vrrp == nil ? [] : ResetRuleFacts.rules(inventory.services),
            dos: [("drop_entry", inventory.options.dropEntry), ("drop_packet", inventory.options.dropPacket),
                  ("secure_tcp", inventory.options.secureTCP)].compactMap { key, value in
                value.map { SysctlFacts(path: "net/ipv4/vs/\(key)", value: $0) }
            },
            timeouts: inventory.options.timeouts.map(TimeoutFacts.init),
            metrics: inventory.options.metrics.map { MetricsFacts(port: $0.port, content: MetricsTextfile.content(desired), vrrp: inventory.notifiesVRRPState) },
            flushNAT: inventory.options.flushNAT,
            selinuxPermissive: inventory.options.selinuxPermissive,
            persist: inventory.options.persist,
            persistIPVS: inventory.options.persist && !keepalived,
            withKeepalived: keepalived,
            keepalivedConf: keepalived ? KeepalivedConfig.file(desired, director: director, destinationOrder: destinationOrder) : "",
            birdConf: inventory.isActiveActive ? BirdConfig.file(desired, director: director) : nil,
            birdGates: inventory.isActiveActive ? BirdConfig.gateReassertion(desired, director: director) : "",
            ipvsRules: desired.ipvsServices.flatMap(IPVSAdm.saveLines).joined(separator: "\n"),
            sysctlConf: (["net.ipv4.ip_forward = 1"] + (nat6 ? ["net.ipv6.conf.all.forwarding = 1"] : [])
                + (inventory.mode == .nat ? interfaces.map { "net.ipv4.conf.\($0).send_redirects = 0" } : [])).joined(separator: "\n"),
            masquerade: inventory.options.masquerade.map(\.network))
    }

    static func realServer(_ desired: DesiredCluster, host: String) -> RealServerFacts {
        let inventory = desired.inventory, hosts = desired.realServerHosts
        // The host's first entry in each of its services (a host twice in one service is refused).
        var entries: [RealServerHosts.Entry] = []
        for entry in hosts.entries[host] ?? [] where entries.last?.service != entry.service { entries.append(entry) }
        let services = entries.map { inventory.services[$0.service] }
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
        let tcp = endpoints.filter { $0.proto == .tcp }.map(\.port), udp = endpoints.filter { $0.proto == .udp }.map(\.port)
        var gateways = [GatewayFacts(gateway: inventory.natGateway)]
        if let dip6 = inventory.director.dip6, services.contains(where: \.vip.isV6) { gateways.append(GatewayFacts(gateway: dip6.address)) }
        return RealServerFacts(
            mode: inventory.mode, name: host, rip: hosts.servers(of: host).first?.rip, page: hosts.page(for: host),
            dip: inventory.director.dip.address, gateways: gateways,
            vips: VIPAddress.numbered(services.map(\.vip)).map { VIPFacts($0, device: "lo") },
            pages: pages ? (tcp + udp.filter { !tcp.contains($0) }).map { PageFacts(port: $0, pidfile: "/var/lib/lvsctl/httpd-\($0).pid") } : [],
            web: pages ? tcp.map { PageFacts(port: $0, pidfile: "/var/lib/lvsctl/httpd-\($0).pid") } : [],
            udp: pages ? udp.map { PageFacts(port: $0, pidfile: "/var/lib/lvsctl/udp-\($0).pid") } : [],
            listeners: pages ? [] : endpoints.filter(\.checked).map { ListenerFacts(protocol: $0.proto, port: $0.port) })
    }
}

/// `director.yml`'s facts.
struct DirectorFacts: TemplateFacts {
    struct Interfaces: TemplateFacts {
        var interface: String
        /// Empty when the director has one interface.
        var innerInterface: String
        var dip: IPAddress
        func child(named name: String) -> Any? {
            switch name {
            case "interface": return interface
            case "inner_interface": return innerInterface
            case "dip": return dip
            default: return nil
            }
        }
    }

    var mode: ForwardingMode
    var director: Interfaces
    var redirectInterfaces: [String]
    /// Where the director holds its VIPs: its outer interface, or lo when active-active.
    var vipDevice: String
    var vips: [VIPFacts]
    var ipv6Forwarding: Bool
    var schedulers: [String]
    var services: [ServiceFacts]
    var markRules: [MarkRuleFacts]
    var resetRules: [ResetRuleFacts]
    var dos: [SysctlFacts]
    var timeouts: TimeoutFacts?
    var metrics: MetricsFacts?
    var flushNAT, selinuxPermissive, persist, persistIPVS, withKeepalived: Bool
    var keepalivedConf: String
    /// Active-active: bird2's configuration (nil otherwise).
    var birdConf: String?
    /// Active-active with health checks: keepalived's verdict on each gated VIP, told to bird again.
    var birdGates: String
    var ipvsRules: String
    var sysctlConf: String
    /// NAT's MASQUERADE source network, when the inventory asks for one.
    var masquerade: String?

    func child(named name: String) -> Any? {
        switch name {
        case "mode": return mode.rawValue
        case "director": return director
        case "redirect_interfaces": return redirectInterfaces
        case "vips": return vips
        case "vip_device": return vipDevice
        case "ipv6_forwarding": return ipv6Forwarding
        case "schedulers": return schedulers
        case "services": return services
        case "mark_rules": return markRules
        case "reset_rules": return resetRules
        case "dos": return dos
        case "timeouts": return timeouts
        case "metrics": return metrics
        case "flush_nat": return flushNAT
        case "selinux_permissive": return selinuxPermissive
        case "persist": return persist
        case "persist_ipvs": return persistIPVS
        case "with_keepalived": return withKeepalived
        case "keepalived_conf": return keepalivedConf
        case "keepalived_run": return TemplateContext.keepalivedRunDirectory
        case "bgp": return birdConf != nil
        case "vip_host_route": return birdConf == nil
        case "bird_conf": return birdConf
        case "bird_gates": return birdGates
        case "bird_path": return BirdConfig.path
        case "bird_run": return BirdConfig.runDirectory
        case "ipvs_rules": return ipvsRules
        case "sysctl_conf": return sysctlConf
        case "masquerade": return masquerade
        case "masquerade_rule": return masquerade.map { ["-s", $0, "-j", "MASQUERADE"] }
        default: return nil
        }
    }
}

/// `real-server.yml`'s facts.
struct RealServerFacts: TemplateFacts {
    var mode: ForwardingMode
    var name: String
    var rip: IPAddress?
    var page: String
    var dip: IPAddress
    var gateways: [GatewayFacts]
    var vips: [VIPFacts]
    /// Test pages (TCP and UDP ports), web servers (TCP), UDP responders; without test pages,
    /// the ports something must already listen on.
    var pages, web, udp: [PageFacts]
    var listeners: [ListenerFacts]

    func child(named name: String) -> Any? {
        switch name {
        case "mode": return mode.rawValue
        case "name": return self.name
        case "rip": return rip.map { "\($0)" } ?? ""
        case "page": return page
        case "dip": return dip
        case "gateways": return gateways
        case "vips": return vips
        case "pages": return pages
        case "web": return web
        case "udp": return udp
        case "listeners": return listeners
        default: return nil
        }
    }
}

/// A VIP as a host holds it: `vip`, `prefix`, `family` (`-4`/`-6`, for `ip`), `label` (IPv4 only).
struct VIPFacts: NamedFacts {
    var vip: VIPAddress
    var label: String?
    init(_ vip: VIPAddress, device: String) {
        self.vip = vip
        label = vip.label(on: device)
    }
    var named: [(String, Any?)] {
        [("vip", vip.address), ("prefix", vip.prefix), ("family", vip.address.isV6 ? "-6" : "-4"), ("label", label)]
    }
}

struct ServiceFacts: NamedFacts {
    var title: String
    var service: IPVSService
    var named: [(String, Any?)] { [("title", title), ("service", service)] }
}

/// A director pair: no TCP reset leaves a director from a VIP's service port. While keepalived
/// stops on the master, its table goes before its VIPs: for that moment the director's own TCP
/// stack answers the clients' packets with resets, which ended every connection a failover
/// should keep (the synced download of the pair test). Dropped, the packets are sent again and
/// reach the new master. A director never sends from a VIP's service port itself (in DR and TUN
/// the real servers answer; NAT's replies are forwarded, not sent). `vip`, `command`, `ports`
/// (words), `rule`.
struct ResetRuleFacts: NamedFacts {
    var vip: IPAddress
    /// Empty: every port (a port-0 service).
    var ports: [Int]

    static func rules(_ services: [VirtualService]) -> [ResetRuleFacts] {
        var rules: [ResetRuleFacts] = []
        for service in services {
            let rule: ResetRuleFacts
            switch service.address {
            case let .socket(.tcp, vip, port): rule = ResetRuleFacts(vip: vip, ports: port == 0 ? [] : [port])
            case .firewallMark where service.markProtocol == .tcp: rule = ResetRuleFacts(vip: service.vip, ports: service.markPorts)
            default: continue
            }
            if !rules.contains(where: { $0.arguments == rule.arguments }) { rules.append(rule) }
        }
        return rules
    }

    var arguments: [String] {
        let ports: [String] = switch self.ports.count {
        case 0: []
        case 1: ["--sport", String(self.ports[0])]
        default: ["-m", "multiport", "--sports", self.ports.map(String.init).joined(separator: ",")]
        }
        return ["-s", "\(vip)/\(vip.bitCount)", "-p", "tcp"] + ports + ["--tcp-flags", "RST", "RST", "-j", "DROP"]
    }

    var named: [(String, Any?)] {
        [("vip", vip), ("command", vip.isV6 ? "ip6tables" : "iptables"),
         ("ports", ports.isEmpty ? "every port" : "port" + (ports.count > 1 ? "s " : " ") + ports.map(String.init).joined(separator: ",")),
         ("rule", arguments)]
    }
}

/// A firewall-mark service's marking rule: `vip`, `mark`, `command` (iptables or ip6tables),
/// `ports` (`80,8080`) and `rule` (the rule's arguments).
struct MarkRuleFacts: TemplateFacts {
    var vip: IPAddress
    var mark: Int
    var `protocol`: ServiceProtocol
    var ports: [Int]
    func child(named name: String) -> Any? {
        let ports = self.ports.map(String.init).joined(separator: ",")
        switch name {
        case "vip": return vip
        case "mark": return mark
        case "command": return vip.isV6 ? "ip6tables" : "iptables"
        case "ports": return ports
        case "rule":
            return ["-d", "\(vip)/\(vip.bitCount)", "-p", self.protocol.rawValue, "-m", "multiport", "--dports", ports,
                    "-j", "MARK", "--set-mark", String(mark)]
        default: return nil
        }
    }
}

/// IPVS's protocol timeouts: `tcp`, `tcpfin`, `udp` (0: left alone), `words` (`tcp 7200`), and
/// the ipvsadm command lines that `read`, `set` and `restore` them.
struct TimeoutFacts: NamedFacts {
    var timeouts: IPVSTimeouts
    var named: [(String, Any?)] {
        [("tcp", timeouts.tcp ?? 0), ("tcpfin", timeouts.tcpFin ?? 0), ("udp", timeouts.udp ?? 0), ("words", timeouts.words),
         ("read", IPVSAdm.readTimeouts), ("set", IPVSAdm.setTimeouts(timeouts)), ("restore", IPVSAdm.restoreTimeouts)]
    }
}

/// Prometheus metrics: node exporter's `port`, the `textfile` lvsctl writes (its `content`), the
/// `directory` node exporter reads it from, the `rundir` of an exporter lvsctl starts itself; with
/// a keepalived pair, the path (`vrrp`) and text (`vrrp_script`) of keepalived's notify script and
/// the file it writes (`vrrp_textfile`).
struct MetricsFacts: NamedFacts {
    var port: Int
    var content: String
    /// A keepalived pair: keepalived's `notify` script writes each director's VRRP state.
    var vrrp: Bool
    var named: [(String, Any?)] {
        [("port", port), ("content", content), ("textfile", MetricsTextfile.path), ("directory", MetricsTextfile.directory),
         ("rundir", TemplateContext.nodeExporterRunDirectory), ("vrrp", vrrp ? MetricsTextfile.vrrpNotifyPath : nil),
         ("vrrp_script", MetricsTextfile.vrrpNotifyScript), ("vrrp_textfile", MetricsTextfile.vrrpPath)]
    }
}

struct SysctlFacts: NamedFacts {
    var path: String
    var value: Int
    var named: [(String, Any?)] { [("path", path), ("value", value)] }
}

/// A real server's default gateway in NAT: `gateway` and its `family`.
struct GatewayFacts: NamedFacts {
    var gateway: IPAddress
    var named: [(String, Any?)] { [("gateway", gateway), ("family", gateway.isV6 ? "-6" : "-4")] }
}

/// A port's test page: `port`, `root` (its folder) and the `pidfile` of what serves it.
struct PageFacts: NamedFacts {
    var port: Int
    var pidfile: String
    var named: [(String, Any?)] { [("port", port), ("root", "\(TemplateContext.webRoot)/\(port)"), ("pidfile", pidfile)] }
}

/// A port an application must already listen on (`test_page: false`).
struct ListenerFacts: NamedFacts {
    var `protocol`: ServiceProtocol
    var port: Int
    var named: [(String, Any?)] { [("protocol", self.protocol.rawValue), ("port", port)] }
}
