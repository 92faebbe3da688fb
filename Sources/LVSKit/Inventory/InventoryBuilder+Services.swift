import Foundation
import Yams

extension InventoryBuilder {
    mutating func readService(_ node: Node, hosts: [InventoryHost]) -> VirtualService? {
        guard let fields = reader.fields(node, "service", allowed: P.serviceKeys) else { return nil }
        guard let vipNode = fields["vip"] else { reader.report(node, .missingKey("vip", in: "a virtual service")); return nil }
        let vip = reader.address(vipNode, "vip")
        var persistence: Int?
        if let n = fields["persistence"] { persistence = reader.integer(n, "persistence timeout", in: 1...31_536_000) }
        var port = 80
        if let n = fields["port"], let value = reader.integer(n, "port", in: 0...65535) {
            port = value
            if value == 0 && fields["persistence"] == nil { reader.report(n, .portZeroWithoutPersistence) }
        }
        var proto = ServiceProtocol.tcp
        if let n = fields["protocol"], let value = reader.choice(n, "protocol") as ServiceProtocol? { proto = value }
        var scheduler = Scheduler.wlc
        if let n = fields["scheduler"], let value = reader.choice(n, "scheduler") as Scheduler? { scheduler = value }
        var netmask: Int?
        if let n = fields["netmask"] {
            if fields["persistence"] == nil { reader.report(n, .netmaskWithoutPersistence) }
            netmask = persistenceNetmask(n, v6: vip?.isV6 ?? false)
        }
        var address: ServiceAddress?
        var markPorts: [Int] = []
        if let n = fields["fwmark"] {
            if let mark = reader.integer(n, "fwmark", in: 1...4_294_967_295) { address = .firewallMark(mark) }
            if let key = fields.entries["port"]?.key {
                reader.report(key, .serviceAddressConflict(
                    "a firewall-mark service matches packets by their mark, not by 'port': list the ports the mark groups under 'ports' instead"))
            }
            if let n = fields["ports"], let items = reader.list(n, "ports") {
                for item in items {
                    guard let port = reader.integer(item, "port", in: 1...65535) else { continue }
                    if !markPorts.contains(port) { markPorts.append(port) }
                }
            }
            if markPorts.isEmpty, case let .firewallMark(mark)? = address, fields["ports"] == nil {
                reader.report(n, .markWithoutPorts(mark))
            }
        } else if let n = fields.entries["ports"]?.key {
            reader.report(n, .portsWithoutMark)
        }
        if address == nil, fields["fwmark"] == nil, let vip {
            address = .socket(proto, vip, port: port)
        }
        var realServers: [RealServer] = []
        if let n = fields["real_servers"], let items = reader.list(n, "real_servers") {
            realServers = items.compactMap { readRealServer($0, hosts: hosts, servicePort: address.map(\.isMark) == true ? 0 : port) }
        }
        guard let vip, let address else { return nil }
        var service = VirtualService(vip: vip, address: address, scheduler: scheduler, persistence: persistence,
                                     persistenceNetmask: netmask, realServers: realServers, location: reader.location(node))
        service.markProtocol = proto
        service.markPorts = markPorts
        if let n = fields["flags"] { service.schedulerFlags = schedulerFlags(n, scheduler: scheduler) }
        if let n = fields["health_check"] { service.healthCheck = readHealthCheck(n) }
        if let n = fields["sorry_server"] { service.sorryServer = readSorryServer(n, hosts: hosts, servicePort: address.isMark ? 0 : port) }
        if fields["real_servers"] == nil || (realServers.isEmpty && reader.diagnostics.isEmpty) {
            reader.report(node, .noRealServers(address.description))
        }
        return service
    }

    /// `flags: [mh-port, mh-fallback]`: ipvsadm's words, each checked against the scheduler.
    mutating func schedulerFlags(_ node: Node, scheduler: Scheduler) -> [SchedulerFlag] {
        guard let items = reader.list(node, "flags") else { return [] }
        var flags = Set<SchedulerFlag>()
        for item in items {
            guard let word = reader.text(item, "flag")?.lowercased() else { continue }
            if let flag = SchedulerFlag.allCases.first(where: { $0.word(for: scheduler) == word }), SchedulerFlag.schedulers.contains(scheduler) {
                flags.insert(flag)
            } else {
                reader.report(item, .schedulerFlag(word, scheduler: scheduler))
            }
        }
        return flags.sorted()
    }

    mutating func persistenceNetmask(_ node: Node, v6: Bool) -> Int? {
        guard let raw = reader.text(node, "netmask") else { return nil }
        if let prefix = Int(raw), (0...(v6 ? 128 : 32)).contains(prefix) { return prefix }
        if !v6, let prefix = Netmask.prefixLength(ofDotted: raw) { return prefix }
        reader.report(node, v6 && raw.contains(".") ? .ipv4NetmaskOnIPv6(raw) : .badNetmask(raw))
        return nil
    }

    mutating func readRealServer(_ node: Node, hosts: [InventoryHost], servicePort: Int) -> RealServer? {
        // `- rs1` is short for `- host: rs1`.
        let fields: Fields?
        let hostNode: Node?
        if node.scalar != nil {
            fields = nil
            hostNode = node
        } else {
            fields = reader.fields(node, "real server", allowed: P.realServerKeys)
            guard fields != nil else { return nil }
            hostNode = fields?["host"]
        }
        guard let hostNode else { reader.report(node, .missingKey("host", in: "a real server")); return nil }
        guard let name = hostReference(hostNode, "real server host", hosts: hosts) else { return nil }
        var rip: IPAddress?
        if let n = fields?["rip"] {
            rip = reader.address(n, "rip")
            guard rip != nil else { return nil }
        } else if let host = hosts.first(where: { $0.name == name }), case let .success(address) = IPAddress.parse(host.address) {
            rip = address
        } else {
            reader.report(node, .missingKey("rip", in: "real server '\(name)' (its host's address is a name, not an IP)"))
            return nil
        }
        var server = RealServer(host: name, rip: rip!, port: servicePort, location: reader.location(node))
        if let n = fields?["port"], let port = reader.integer(n, "real server port", in: 0...65535) { server.port = port }
        if let n = fields?["weight"], let weight = reader.integer(n, "weight", in: 0...65535) { server.weight = weight }
        if let n = fields?["upper"], let upper = reader.integer(n, "upper threshold", in: 0...65535) { server.upperThreshold = upper }
        if let n = fields?["lower"], let lower = reader.integer(n, "lower threshold", in: 0...65535) { server.lowerThreshold = lower }
        if let n = fields?["page"], let page = reader.text(n, "page") { server.page = page }
        if let n = fields?["test_page"], let flag = reader.flag(n, "test_page") { server.testPage = flag }
        if server.upperThreshold > 0, server.lowerThreshold > server.upperThreshold, let n = fields?["lower"] {
            reader.report(n, .thresholdsInverted(lower: server.lowerThreshold, upper: server.upperThreshold))
        }
        return server
    }

    mutating func readOptions(_ cluster: Fields) -> Options {
        var options = Options()
        if let n = cluster["masquerade"] { options.masquerade = addressWithPrefix(n, "masquerade") }
        if let n = cluster["flush_nat"], let value = reader.flag(n, "flush_nat") { options.flushNAT = value }
        if let n = cluster["selinux_permissive"], let value = reader.flag(n, "selinux_permissive") { options.selinuxPermissive = value }
        if let n = cluster["persist"], let value = reader.flag(n, "persist") { options.persist = value }
        if let n = cluster["dos"], let dos = reader.fields(n, "dos", allowed: P.dosKeys) {
            if let v = dos["drop_entry"] { options.dropEntry = reader.integer(v, "drop_entry", in: 0...3) }
            if let v = dos["drop_packet"] { options.dropPacket = reader.integer(v, "drop_packet", in: 0...3) }
            if let v = dos["secure_tcp"] { options.secureTCP = reader.integer(v, "secure_tcp", in: 0...3) }
        }
        if let n = cluster["timeouts"], let given = reader.fields(n, "timeouts", allowed: P.timeoutKeys) {
            var timeouts = IPVSTimeouts()
            if let v = given["tcp"] { timeouts.tcp = reader.integer(v, "timeouts.tcp", in: P.timeoutRange) }
            if let v = given["tcp_fin"] { timeouts.tcpFin = reader.integer(v, "timeouts.tcp_fin", in: P.timeoutRange) }
            if let v = given["udp"] { timeouts.udp = reader.integer(v, "timeouts.udp", in: P.timeoutRange) }
            if timeouts != IPVSTimeouts() { options.timeouts = timeouts }
        }
        // `metrics: true` for node exporter's own port, or `metrics: { port: 9110 }`.
        if let n = cluster["metrics"] {
            if case .mapping = n {
                if let given = reader.fields(n, "metrics", allowed: P.metricsKeys) {
                    var metrics = Metrics()
                    if let v = given["port"], let port = reader.integer(v, "metrics.port", in: 1...65535) { metrics.port = port }
                    options.metrics = metrics
                }
            } else if let on = reader.flag(n, "metrics"), on {
                options.metrics = Metrics()
            }
        }
        return options
    }
}

extension ServiceAddress {
    var isMark: Bool { if case .firewallMark = self { return true }; return false }
}
