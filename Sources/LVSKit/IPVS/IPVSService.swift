/// What a virtual service answers on, as the kernel keys it: protocol, VIP and port, or a
/// firewall mark (with its address family). Its text is the service's identity:
/// `tcp 192.168.0.200:80`, `udp [fd00::200]:53`, `fwmark 7`, `fwmark 8 ipv6`.
public enum IPVSServiceKey: Hashable, Sendable, CustomStringConvertible {
    case tcp(IPAddress, port: Int)
    case udp(IPAddress, port: Int)
    case sctp(IPAddress, port: Int)
    case fwmark(Int, IPAddress.Family)

    public init(_ address: ServiceAddress, vip: IPAddress) {
        switch address {
        case let .socket(.tcp, address, port): self = .tcp(address, port: port)
        case let .socket(.udp, address, port): self = .udp(address, port: port)
        case let .firewallMark(mark): self = .fwmark(mark, vip.family)
        }
    }

    public var description: String {
        switch self {
        case let .tcp(address, port): return "tcp \(address.withPort(port))"
        case let .udp(address, port): return "udp \(address.withPort(port))"
        case let .sctp(address, port): return "sctp \(address.withPort(port))"
        case let .fwmark(mark, family): return family == .v6 ? "fwmark \(mark) ipv6" : "fwmark \(mark)"
        }
    }

    /// The resource identity lvsctl records a service under.
    public var resourceID: ResourceID { ResourceID(kind: "ipvs", key: description) }
}

/// One real server of a virtual service, as IPVS holds it.
public struct IPVSDestination: Hashable, Sendable {
    public var address: IPAddress
    public var port: Int
    public var method: ForwardingMode
    public var weight: Int
    /// `-x` / `-y` connection thresholds; 0 means none.
    public var upper: Int
    public var lower: Int

    public init(address: IPAddress, port: Int, method: ForwardingMode, weight: Int, upper: Int = 0, lower: Int = 0) {
        self.address = address
        self.port = port
        self.method = method
        self.weight = weight
        self.upper = upper
        self.lower = lower
    }

    /// `10.0.0.11:80`, `[fd00::11]:80`: its identity within a service.
    public var endpoint: Endpoint { Endpoint(address, port: port) }
}

/// A virtual service and its destinations: desired (from the inventory) or live (read back
/// from `ipvsadm -Sn` and `-Ln --thresholds`). One type for both, so comparing them is `==`.
public struct IPVSService: Hashable, Sendable {
    public var key: IPVSServiceKey
    /// ipvsadm's name for it; a live table may hold one lvsctl does not know.
    public var scheduler: String
    /// Persistence timeout in seconds (`-p`), nil when not persistent.
    public var persistence: Int?
    /// Persistence granularity (`-M`) as ipvsadm prints it: dotted for IPv4, a prefix length
    /// for IPv6; nil for one client address.
    public var netmask: String?
    /// Scheduler flags (`-b sh-port,sh-fallback`), as ipvsadm prints them.
    public var schedulerFlags: String?
    public var destinations: [IPVSDestination]

    public init(key: IPVSServiceKey, scheduler: String, persistence: Int? = nil, netmask: String? = nil,
                schedulerFlags: String? = nil, destinations: [IPVSDestination] = []) {
        self.key = key
        self.scheduler = scheduler
        self.persistence = persistence
        self.netmask = netmask
        self.schedulerFlags = schedulerFlags
        self.destinations = destinations
    }

    public func destination(_ endpoint: Endpoint) -> IPVSDestination? { destinations.first { $0.endpoint == endpoint } }

    /// The service's own settings, without its destinations.
    public var settings: IPVSService { IPVSService(key: key, scheduler: scheduler, persistence: persistence, netmask: netmask, schedulerFlags: schedulerFlags) }
}

/// Connection counts of one destination (`ipvsadm -Ln`): what draining waits for.
public struct IPVSConnectionCounts: Hashable, Sendable, Codable {
    public var active: Int
    public var inactive: Int
    public init(active: Int, inactive: Int) {
        self.active = active
        self.inactive = inactive
    }
    public var total: Int { active + inactive }
}

/// Traffic counters (`ipvsadm -Ln --stats --exact`) of a service or a destination.
public struct IPVSStats: Hashable, Sendable, Codable {
    public var connections: Int
    public var inPackets: Int
    public var outPackets: Int
    public var inBytes: Int
    public var outBytes: Int
}

/// A director's live table: the services in ipvsadm's order, with what each listing added.
public struct IPVSTable: Sendable, Equatable {
    public var services: [IPVSService] = [] {
        didSet { positions = Self.positions(services) }
    }
    /// Where each service is in `services`: a director may hold thousands, and every desired
    /// service is looked up in the live table.
    private var positions: [IPVSServiceKey: Int] = [:]
    /// Per service, per destination.
    public var connections: [IPVSServiceKey: [Endpoint: IPVSConnectionCounts]] = [:]
    public var serviceStats: [IPVSServiceKey: IPVSStats] = [:]
    public var destinationStats: [IPVSServiceKey: [Endpoint: IPVSStats]] = [:]
    /// Per service, its destinations in the kernel's order, as the thresholds listing gave them
    /// (`--nosort`).
    public var kernelOrder: [IPVSServiceKey: [Endpoint]] = [:]

    public init(services: [IPVSService] = []) {
        self.services = services
        positions = Self.positions(services)
    }

    public func service(_ key: IPVSServiceKey) -> IPVSService? { positions[key].map { services[$0] } }

    public func index(of key: IPVSServiceKey) -> Int? { positions[key] }

    /// The service's destinations in the kernel's order (the `--nosort` listing's, else the order
    /// `-S` gave them in); nil when the table has no such service.
    public func kernelOrder(of key: IPVSServiceKey) -> [Endpoint]? {
        service(key).map { kernelOrder[key] ?? $0.destinations.map(\.endpoint) }
    }

    private static func positions(_ services: [IPVSService]) -> [IPVSServiceKey: Int] {
        Dictionary(services.enumerated().map { ($1.key, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public static func == (a: IPVSTable, b: IPVSTable) -> Bool {
        a.services == b.services && a.connections == b.connections && a.serviceStats == b.serviceStats
            && a.destinationStats == b.destinationStats && a.kernelOrder == b.kernelOrder
    }
}

extension IPVSServiceKey {
    /// The service a record's identity (`resourceID`'s text: `ipvs tcp 192.168.0.200:80`) names.
    public init?(recordID: String) {
        guard recordID.hasPrefix("ipvs ") else { return nil }
        self.init(identity: String(recordID.dropFirst(5)))
    }

    /// Reads the text `description` gives (`tcp 192.168.0.200:80`, `fwmark 8 ipv6`) back.
    public init?(identity text: String) {
        let words = text.split(separator: " ").map(String.init)
        guard words.count >= 2 else { return nil }
        if words[0] == "fwmark" {
            guard let mark = Int(words[1]) else { return nil }
            self = .fwmark(mark, words.count > 2 && words[2] == "ipv6" ? .v6 : .v4)
            return
        }
        guard let endpoint = IPVSAdm.parseEndpoint(words[1]) else { return nil }
        switch words[0] {
        case "tcp": self = .tcp(endpoint.address, port: endpoint.port)
        case "udp": self = .udp(endpoint.address, port: endpoint.port)
        case "sctp": self = .sctp(endpoint.address, port: endpoint.port)
        default: return nil
        }
    }
}

extension Sequence where Element == IPVSTable {
    /// The service's destinations in the kernel's order on the first of these tables that holds
    /// it (active-active: what a director making it afresh must list alike); nil when none does.
    public func kernelOrder(of key: IPVSServiceKey) -> [Endpoint]? {
        lazy.compactMap { $0.kernelOrder(of: key) }.first
    }
}
