/// keepalived.conf for one director: the one place that spells keepalived's grammar. The
/// virtual servers come from the same typed `IPVSService`s lvsctl's ipvsadm grammar applies, so
/// the two ways of running a cluster cannot disagree on a scheduler, a weight or a threshold.
public enum KeepalivedConfig {
    /// The VRRP instance's name (also what `lvs_sync_daemon` follows).
    public static let instance = "lvsctl"

    /// A director's VRRP priority: as the inventory says, else 150 for the first, 100 for the
    /// second, 50 for the third…
    public static func priority(of director: Director, at index: Int) -> Int {
        director.priority ?? max(1, 150 - 50 * index)
    }

    /// The whole file for `director` (one of the inventory's directors).
    /// - destinationOrder: for a service, the destinations in the kernel's order on a director
    ///   that holds it (active-active: this one, else a peer). keepalived adds real servers in
    ///   the file's order, each at the head of the kernel's list, and a reload adds new ones at
    ///   the head too: listed in the reverse of that order (new ones after), a director making
    ///   the service afresh gets its peers' list, so the same Maglev table, whatever history
    ///   gave them theirs — and a director that holds it finds its file unchanged.
    public static func file(_ desired: DesiredCluster, director: Director,
                            destinationOrder: (IPVSServiceKey) -> [Endpoint]? = { _ in nil }) -> String {
        let inventory = desired.inventory
        var lines = ["# Written by lvsctl from \(inventory.file): `lvsctl up` rewrites it, `lvsctl down` restores what was here.",
                     "global_defs {", "    router_id \(director.host)"]
        if let vrrp = inventory.vrrp, vrrp.sync {
            // The master's daemon sends connection entries; the backups' receive them.
            lines.append("    lvs_sync_daemon \(director.innerInterface ?? director.interface) \(instance) id \(vrrp.routerID)")
        }
        let gates = Dictionary(announcementGates(desired, director: director)) { first, _ in first }
        if inventory.notifiesVRRPState || !gates.isEmpty {
            // The notify script runs as root, and keepalived checks that only root can change it.
            lines += ["    script_user root", "    enable_script_security"]
        }
        lines.append("}")
        if let vrrp = inventory.vrrp {
            let index = inventory.directors.firstIndex { $0.host == director.host } ?? 0
            lines += vrrpInstance(desired, vrrp: vrrp, director: director, priority: priority(of: director, at: index))
        }
        for service in desired.services {
            let ipvs = destinationOrder(service.key).map(service.ipvs.orderedForCreation) ?? service.ipvs
            lines += virtualServer(service.spec, ipvs: ipvs, mode: inventory.mode,
                                   activeActive: inventory.bgp != nil, gate: gates[service.key])
        }
        return lines.joined(separator: "\n")
    }

    static func vrrpInstance(_ desired: DesiredCluster, vrrp: VRRP, director: Director, priority: Int) -> [String] {
        let inventory = desired.inventory
        var lines = ["vrrp_instance \(instance) {",
                     // Every director starts as backup: the election (and preempt) decide.
                     "    state BACKUP",
                     "    interface \(vrrp.interface ?? director.interface)",
                     "    virtual_router_id \(vrrp.routerID)",
                     "    priority \(priority)",
                     "    advert_int \(vrrp.advertInterval)"]
        if vrrp.version == 3 { lines.append("    version 3") }
        if !vrrp.preempt { lines.append("    nopreempt") }
        if let password = vrrp.password {
            lines += ["    authentication {", "        auth_type PASS", "        auth_pass \(password)", "    }"]
        }
        // The same addresses and labels lvsctl itself gives the VIPs (DesiredCluster.vips).
        var v4: [String] = [], v6: [String] = []
        for vip in desired.vips {
            let address = "\(vip.address)/\(vip.prefix) dev \(director.interface)"
            if let label = vip.label(on: director.interface) { v4.append("\(address) label \(label)") } else { v6.append(address) }
        }
        // NAT's gateway moves with the VIP: the real servers' replies reach whichever is master.
        if inventory.mode == .nat, let gateway = vrrp.gateway {
            v4.append("\(gateway.address)/\(gateway.prefix) dev \(director.innerInterface ?? director.interface)")
        }
        lines += ["    virtual_ipaddress {"] + v4.map { "        " + $0 } + ["    }"]
        // VRRPv2 advertises IPv4 only: IPv6 VIPs move with the instance without being advertised.
        if !v6.isEmpty { lines += ["    virtual_ipaddress_excluded {"] + v6.map { "        " + $0 } + ["    }"] }
        // The director's VRRP state for Prometheus (node exporter's textfile collector).
        if inventory.notifiesVRRPState { lines.append("    notify \(MetricsTextfile.vrrpNotifyPath)") }
        lines.append("}")
        return lines
    }

    /// Each health-gated service of `director` with its bird protocol, in the inventory's order.
    public static func announcementGates(_ desired: DesiredCluster, director: Director) -> [(service: IPVSServiceKey, protocol: String)] {
        let servicesPerVIP = Dictionary(grouping: desired.services, by: \.spec.vip).mapValues(\.count)
        return desired.services.compactMap { service in
            announcementGate(service.spec, desired: desired, director: director, vipShared: servicesPerVIP[service.spec.vip, default: 0] > 1)
                .map { (service.key, $0) }
        }
    }

    /// Health-gated announcement on an active-active director: the bird protocol that announces
    /// this service's VIP, when keepalived should withdraw it as the last real server fails
    /// (`quorum_down`) and announce it again as one returns (`quorum_up`). Not for a drained
    /// director (its announcements stay off), a service with a sorry server (the operator chose
    /// what answers when all are down), or a VIP with several services (one service's servers
    /// all down must not withdraw the others).
    static func announcementGate(_ service: VirtualService, desired: DesiredCluster, director: Director, vipShared: Bool) -> String? {
        guard desired.inventory.bgp != nil, !director.drained, let check = service.healthCheck, check.kind != .none,
              service.sorryServer == nil, !service.vip.isV6, !vipShared,
              let vip = desired.vips.first(where: { $0.address == service.vip }) else { return nil }
        return BirdConfig.protocolName(vip)
    }

    static func virtualServer(_ service: VirtualService, ipvs: IPVSService, mode: ForwardingMode,
                              activeActive: Bool = false, gate: String? = nil) -> [String] {
        var lines: [String]
        switch service.address {
        case let .socket(_, vip, port): lines = ["virtual_server \(vip) \(port) {"]
        case let .firewallMark(mark): lines = ["virtual_server fwmark \(mark) {"] + (service.vip.isV6 ? ["    ip_family inet6"] : [])
        }
        let check = service.healthCheck
        lines += ["    delay_loop \(check?.interval ?? 6)", "    lvs_sched \(ipvs.scheduler)",
                  "    lvs_method \(method(mode))"]
        // One keyword a line, after lvs_sched (keepalived reads them against the scheduler).
        lines += service.schedulerFlags.map { "    \($0.word(for: service.scheduler))" }
        // keepalived ignores (and warns about) a protocol on a firewall-mark service.
        if case let .socket(proto, _, _) = service.address { lines.append("    protocol \(proto.rawValue.uppercased())") }
        if let timeout = ipvs.persistence { lines.append("    persistence_timeout \(timeout)") }
        if let netmask = ipvs.netmask { lines.append("    persistence_granularity \(netmask)") }
        if let sorry = service.sorryServer { lines.append("    sorry_server \(sorry.rip) \(sorry.port)") }
        if let gate {
            lines += ["    quorum 1",
                      "    quorum_up \"\(BirdConfig.birdc) enable \(gate)\"",
                      "    quorum_down \"\(BirdConfig.birdc) disable \(gate)\""]
        }
        for destination in ipvs.destinations {
            lines.append("    real_server \(destination.address) \(destination.port) {")
            lines.append("        weight \(destination.weight)")
            if destination.upper > 0 { lines.append("        uthreshold \(destination.upper)") }
            if destination.lower > 0 { lines.append("        lthreshold \(destination.lower)") }
            if let check, check.kind != .none {
                // Active-active: a failed server kept at weight 0, not removed, so that its
                // return does not put it at the head of one director's list (mh's table follows
                // the list's order; the directors' tables would differ).
                if check.inhibitOnFailure || activeActive { lines.append("        inhibit_on_failure") }
                lines += checker(check, transport: service.transport).map { "        " + $0 }
            }
            lines.append("    }")
        }
        lines.append("}")
        return lines
    }

    static func checker(_ check: HealthCheck, transport: ServiceProtocol) -> [String] {
        var lines: [String]
        switch check.kind {
        case .http:
            lines = ["HTTP_GET {", "    url {", "        path \(check.path)",
                     "        status_code \(check.statusCodes.map(String.init).joined(separator: " "))"]
            // keepalived matches `regex` as a POSIX extended expression: escape what it would read as one.
            if let text = check.text { lines.append("        regex \"\(regexLiteral(text))\"") }
            lines.append("    }")
        case .tcp, .none:
            // A UDP service is checked by sending a datagram and expecting no ICMP error.
            lines = [transport == .udp ? "UDP_CHECK {" : "TCP_CHECK {"]
        }
        if let port = check.port { lines.append("    connect_port \(port)") }
        lines += ["    connect_timeout \(check.timeout)", "    retry \(check.retries)", "    delay_before_retry \(check.retryDelay)", "}"]
        return lines
    }

    /// keepalived's word for the cluster's mode (one mode per cluster: the inventory says it).
    static func method(_ mode: ForwardingMode) -> String {
        switch mode {
        case .nat: return "NAT"
        case .directRouting: return "DR"
        case .tunnel: return "TUN"
        }
    }

    static func regexLiteral(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if ".[]()*+?{}|^$".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
