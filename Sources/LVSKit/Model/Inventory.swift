import Foundation
/// Where a value came from in the inventory file, for messages.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }
    public var description: String { "\(file):\(line):\(column)" }
}

/// How the director forwards packets to real servers (ipvsadm `-m`, `-g`, `-i`).
public enum ForwardingMode: String, Sendable, CaseIterable {
    case nat, directRouting = "dr", tunnel = "tun"
}

/// ipvsadm's scheduling methods (`-s`), including those newer kernels add.
public enum Scheduler: String, Sendable, CaseIterable {
    case rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos
}

/// The hashing schedulers' options (`ipvsadm -b sh-port,mh-fallback`; keepalived's `mh-port`
/// lines): `port` hashes the client's port with its address (else one client address lands on
/// one real server); `fallback` hashes a flow whose real server has weight 0 or is over its
/// threshold onto the next one instead of dropping it (what draining under `mh` needs).
public enum SchedulerFlag: String, Sendable, CaseIterable, Comparable {
    // In the order ipvsadm lists them (fallback is flag-1, port flag-2).
    case fallback, port

    /// The schedulers that take flags.
    public static let schedulers: [Scheduler] = [.sh, .mh]

    /// ipvsadm's and keepalived's word for it: `mh-port`.
    public func word(for scheduler: Scheduler) -> String { "\(scheduler.rawValue)-\(rawValue)" }

    public static func < (a: SchedulerFlag, b: SchedulerFlag) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

public enum ServiceProtocol: String, Sendable, CaseIterable {
    case tcp, udp
}

/// How to become root on a host whose SSH user is not root.
public enum Become: String, Sendable, CaseIterable { case sudo }

/// A machine lvsctl reaches over SSH.
public struct InventoryHost: Sendable, Equatable {
    public var name: String
    public var address: String      // an IP address or a DNS name
    /// SSH port and user when the inventory gives them (else ~/.ssh/config, else 22 and root).
    public var port: Int?
    public var user: String?
    public var identityFile: String?
    public var jump: String?
    public var become: Become?
    public var location: SourceLocation

    public init(name: String, address: String, port: Int? = nil, user: String? = nil, identityFile: String? = nil,
                jump: String? = nil, become: Become? = nil, location: SourceLocation) {
        self.name = name
        self.address = address
        self.port = port
        self.user = user
        self.identityFile = identityFile
        self.jump = jump
        self.become = become
        self.location = location
    }
}

/// The director: where the VIPs and the IPVS table live.
public struct Director: Sendable, Equatable {
    public var host: String
    /// Outer interface: the VIP is aliased on it as `<interface>:0`.
    public var interface: String = "eth0"
    /// Inner interface (towards the real servers), when it differs.
    public var innerInterface: String?
    public var dip: AddressWithPrefix
    /// The DIP's IPv6 counterpart: NAT's IPv6 real servers route their replies through it.
    public var dip6: AddressWithPrefix?
    /// VRRP priority (1–254) when directors are a keepalived pair: the highest is master.
    public var priority: Int?
    /// Active-active (`bgp:`): the director's BGP router id, when its DIP is not the one to use.
    public var routerID: IPAddress?
    /// Active-active: taken out of service (`drain: true`). It keeps its table and its sessions
    /// but announces no VIP, so the routers send it nothing new; the flows they move to the other
    /// directors keep their real servers (equal Maglev tables).
    public var drained = false
    public var location: SourceLocation
}

/// One real server of one virtual service.
public struct RealServer: Sendable, Equatable {
    public var host: String
    public var rip: IPAddress
    public var port: Int
    /// Its identity within its service: RIP and port.
    public var endpoint: Endpoint { Endpoint(rip, port: port) }
    public var weight: Int = 1
    public var upperThreshold: Int = 0
    public var lowerThreshold: Int = 0
    /// The test page's text (default "I am RealServerN <RIP>").
    public var page: String?
    /// false: the host already serves the application (lvsctl writes no page, starts no server).
    public var testPage = true
    public var location: SourceLocation
}

/// What a virtual service listens on: address, port and protocol, or a firewall mark.
public enum ServiceAddress: Sendable, Hashable, CustomStringConvertible {
    case socket(ServiceProtocol, IPAddress, port: Int)
    case firewallMark(Int)

    public var description: String {
        switch self {
        case let .socket(proto, address, port): return "\(address.withPort(port))/\(proto.rawValue)"
        case let .firewallMark(mark): return "fwmark \(mark)"
        }
    }
}

public struct VirtualService: Sendable, Equatable {
    /// The VIP: configured on the director (and in DR/TUN on the real servers); for a
    /// firewall-mark service, the address whose packets get the mark.
    public var vip: IPAddress
    public var address: ServiceAddress
    public var scheduler: Scheduler = .wlc
    /// Persistence timeout in seconds (`-p`), nil when not persistent.
    public var persistence: Int?
    /// Persistence granularity (`-M`) as a prefix length.
    public var persistenceNetmask: Int?
    /// `sh`/`mh` options, each once, in ipvsadm's order.
    public var schedulerFlags: [SchedulerFlag] = []
    public var realServers: [RealServer]
    /// A firewall-mark service: the protocol and destination ports whose packets to the VIP
    /// get the mark (only those: other traffic to the VIP is left alone).
    public var markProtocol: ServiceProtocol = .tcp
    public var markPorts: [Int] = []
    /// keepalived checks the real servers (nil: no checker).
    public var healthCheck: HealthCheck?
    public var sorryServer: SorryServer?
    public var location: SourceLocation

    /// The protocol of the traffic the service carries.
    public var transport: ServiceProtocol {
        if case let .socket(proto, _, _) = address { return proto }
        return markProtocol
    }

    /// The ports clients reach the service on: its port, or the ports its mark groups.
    public var clientPorts: [Int] {
        if case let .socket(_, _, port) = address { return [port] }
        return markPorts
    }

    public var port: Int {
        if case let .socket(_, _, port) = address { return port }
        return 0
    }

    /// The flags as ipvsadm takes and lists them (`mh-fallback,mh-port`); nil for none.
    public var schedulerFlagsText: String? {
        schedulerFlags.isEmpty ? nil : schedulerFlags.map { $0.word(for: scheduler) }.joined(separator: ",")
    }
}

/// Opt-in extras, each off unless the inventory asks.
public struct Options: Sendable, Equatable {
    /// NAT: `iptables -t nat -A POSTROUTING -s <network> -j MASQUERADE` on the director.
    public var masquerade: AddressWithPrefix?
    /// Director DoS defences under /proc/sys/net/ipv4/vs (0–3 each; nil leaves them alone).
    public var dropEntry: Int?
    public var dropPacket: Int?
    public var secureTCP: Int?
    /// The seed's `iptables -t nat -F`: destructive, restored from a saved copy on `down`.
    public var flushNAT = false
    /// The seed's `setenforce 0`.
    public var selinuxPermissive = false
    /// Keep settings across reboots (sysctl.d file, saved ipvsadm rules).
    public var persist = false
    /// IPVS's protocol timeouts (`ipvsadm --set`); nil leaves them as the director has them.
    public var timeouts: IPVSTimeouts?
    /// Prometheus metrics from every director (node exporter); nil: none.
    public var metrics: Metrics?
}

/// Prometheus metrics: Debian's node exporter on every director, answering on `port`, with its
/// ipvs collector and, through its textfile collector, what only lvsctl knows.
public struct Metrics: Sendable, Hashable {
    /// node exporter's own default, which Prometheus' documentation assigns it.
    public static let defaultPort = 9100
    public var port: Int
    public init(port: Int = Metrics.defaultPort) { self.port = port }
}

/// IPVS's connection timeouts in seconds, as `ipvsadm --set tcp tcpfin udp` takes them: an
/// established TCP connection, one in FIN_WAIT, a UDP flow. nil leaves that one alone.
public struct IPVSTimeouts: Sendable, Hashable {
    public var tcp: Int?
    public var tcpFin: Int?
    public var udp: Int?
    public init(tcp: Int? = nil, tcpFin: Int? = nil, udp: Int? = nil) {
        self.tcp = tcp
        self.tcpFin = tcpFin
        self.udp = udp
    }
    /// ipvsadm's own names, with each value: the wanted ones (`tcp 7200 udp 60`), or every one.
    public var words: String {
        [("tcp", tcp), ("tcpfin", tcpFin), ("udp", udp)].compactMap { name, value in value.map { "\(name) \($0)" } }.joined(separator: " ")
    }
    /// The same timeouts in the words of `wanted`: only those `wanted` names.
    public func comparable(to wanted: IPVSTimeouts) -> IPVSTimeouts {
        IPVSTimeouts(tcp: wanted.tcp == nil ? nil : tcp, tcpFin: wanted.tcpFin == nil ? nil : tcpFin, udp: wanted.udp == nil ? nil : udp)
    }
}

/// A whole inventory: the hosts and the cluster built on them.
public struct Inventory: Sendable, Equatable {
    public var file: String
    public var hosts: [InventoryHost]
    public var mode: ForwardingMode
    /// The director (the first of `directors:`).
    public var director: Director
    /// The other directors of a keepalived pair (or group), in the inventory's order.
    public var standbyDirectors: [Director] = []
    public var vrrp: VRRP?
    /// Active-active directors announcing the VIPs over BGP (instead of a VRRP pair).
    public var bgp: BGP?
    public var services: [VirtualService]
    public var client: String?
    public var pageTemplate: String
    /// `test_page: false` for the whole cluster.
    public var testPages = true
    public var options: Options
    /// known_hosts files and an OpenSSH client config named by the inventory (`ssh:`), with
    /// relative paths resolved against the inventory's folder.
    public var knownHostsFiles: [String] = []
    public var sshConfigFile: String?

    public func host(named name: String) -> InventoryHost? { hosts.first { $0.name == name } }

    /// Every director, the first one first.
    public var directors: [Director] { [director] + standbyDirectors }

    /// Real-server hosts in order of first appearance.
    public var realServerHosts: [String] { RealServerHosts(self).names }

    /// Whether lvsctl writes a test page and serves it on this host (not when the cluster or any of
    /// the host's real-server entries says `test_page: false`).
    public func servesTestPage(_ host: String) -> Bool { RealServerHosts(self).servesTestPage(host) }

    /// The test page a real-server host serves. Nothing in it depends on the other servers, so
    /// adding, removing or reordering them never rewrites a page.
    public func page(for host: String) -> String { RealServerHosts(self).page(for: host) }

    /// `{n}` of a test page: the number a host's name ends in (rs2 → 2), else the last number of
    /// its RIP (10.0.0.12 → 12).
    static func number(host: String, rip: IPAddress?) -> String {
        let digits = host.reversed().prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, let value = Int(String(digits.reversed())) { return String(value) }
        guard let rip else { return "" }
        return rip.isV6 ? String(Int(rip.bytes[14]) << 8 | Int(rip.bytes[15])) : String(rip.bytes[3])
    }
}

/// An inventory's real-server hosts, each with its entries (as a real server or a sorry server)
/// in the inventory's order, gathered in one pass: questions asked per host stay linear in the
/// size of the inventory when it has thousands of hosts and services.
public struct RealServerHosts: Sendable {
    /// One entry of a host: the index of its service in `inventory.services`, and the server.
    public struct Entry: Sendable {
        public var service: Int
        public var server: RealServer
        /// The service's sorry server rather than one of its real servers.
        public var isSorry: Bool
    }

    public let inventory: Inventory
    /// Hosts in order of first appearance.
    public let names: [String]
    public let entries: [String: [Entry]]

    public init(_ inventory: Inventory) {
        self.inventory = inventory
        var names: [String] = [], entries: [String: [Entry]] = [:]
        for (index, service) in inventory.services.enumerated() {
            for (position, server) in service.answeringServers.enumerated() {
                if entries[server.host] == nil { names.append(server.host) }
                entries[server.host, default: []].append(Entry(service: index, server: server, isSorry: position >= service.realServers.count))
            }
        }
        self.names = names
        self.entries = entries
    }

    public func servers(of host: String) -> [RealServer] { entries[host]?.map(\.server) ?? [] }

    public func servesTestPage(_ host: String) -> Bool {
        inventory.testPages && servers(of: host).allSatisfy(\.testPage)
    }

    public func page(for host: String) -> String {
        let servers = servers(of: host)
        if let explicit = servers.first(where: { $0.page != nil })?.page { return explicit }
        return inventory.pageTemplate
            .replacingOccurrences(of: "{n}", with: Inventory.number(host: host, rip: servers.first?.rip))
            .replacingOccurrences(of: "{host}", with: host)
            .replacingOccurrences(of: "{rip}", with: servers.first.map { "\($0.rip)" } ?? "")
    }
}
