/// What an inventory asks of the cluster as a whole, derived once per run and read by every
/// stage after validation: the template context, keepalived.conf, the ipvsadm rules, plan, up,
/// verify and status. It is the one place an inventory's service becomes the IPVS service the
/// kernel holds, and the one place VIPs are numbered for their alias labels.
public struct DesiredCluster: Sendable {
    public let inventory: Inventory
    /// Each inventory service with its IPVS service, in the inventory's order.
    public let services: [DesiredService]
    /// Each VIP once, in first-seen order (the director's addresses).
    public let vips: [VIPAddress]
    /// The real-server hosts and their entries, gathered once.
    public let realServerHosts: RealServerHosts
    private let byKey: [IPVSServiceKey: Int]

    public init(_ inventory: Inventory) {
        self.inventory = inventory
        services = inventory.services.map { DesiredService(spec: $0, ipvs: Self.ipvsService($0, mode: inventory.mode)) }
        vips = VIPAddress.numbered(inventory.services.map(\.vip))
        realServerHosts = RealServerHosts(inventory)
        byKey = Dictionary(services.enumerated().map { ($1.key, $0) }) { first, _ in first }
    }

    /// The IPVS services the director should hold, in the inventory's order.
    public var ipvsServices: [IPVSService] { services.map(\.ipvs) }

    public func service(_ key: IPVSServiceKey) -> DesiredService? { byKey[key].map { services[$0] } }

    /// The IPVS service an inventory service asks for: its key, scheduler, persistence and
    /// granularity, and a destination per real server with the cluster's forwarding method.
    /// (keepalived's view of a service, a `VirtualService` with the real servers its checkers
    /// keep, becomes an IPVS service here too.)
    public static func ipvsService(_ service: VirtualService, mode: ForwardingMode) -> IPVSService {
        var netmask: String?
        if service.persistence != nil, let prefix = service.persistenceNetmask, prefix != service.vip.bitCount {
            netmask = service.vip.isV6 ? String(prefix) : Netmask.dotted(prefix: prefix)
        }
        return IPVSService(key: service.key, scheduler: service.scheduler.rawValue, persistence: service.persistence, netmask: netmask,
                           schedulerFlags: service.schedulerFlagsText, destinations: service.realServers.map {
                               IPVSDestination(address: $0.rip, port: $0.port, method: mode, weight: $0.weight,
                                               upper: $0.upperThreshold, lower: $0.lowerThreshold)
                           })
    }
}

/// One service of the inventory and the IPVS service it becomes.
public struct DesiredService: Sendable {
    /// As the inventory gives it (real servers by host, health check, sorry server).
    public let spec: VirtualService
    /// As the kernel should hold it.
    public let ipvs: IPVSService
    public var key: IPVSServiceKey { ipvs.key }
}

/// A VIP as a host holds it: IPv4 with prefix 32 and an alias label numbered among the IPv4 VIPs
/// (`lo:0`, `eth0:1`: the seed's ifconfig aliases), IPv6 with prefix 128 and no label (IPv6 has
/// none).
public struct VIPAddress: Sendable, Hashable {
    public let address: IPAddress
    /// The alias number among the IPv4 VIPs; nil for IPv6.
    public let labelNumber: Int?

    public var prefix: Int { address.bitCount }

    /// `eth0:1` on `eth0`; nil for IPv6.
    public func label(on device: String) -> String? { labelNumber.map { "\(device):\($0)" } }

    /// Each address once, in first-seen order, the IPv4 ones numbered from 0.
    public static func numbered(_ addresses: [IPAddress]) -> [VIPAddress] {
        var seen = Set<IPAddress>(), vips: [VIPAddress] = [], labels = 0
        for address in addresses where seen.insert(address).inserted {
            if address.isV6 {
                vips.append(VIPAddress(address: address, labelNumber: nil))
            } else {
                vips.append(VIPAddress(address: address, labelNumber: labels))
                labels += 1
            }
        }
        return vips
    }
}

extension VirtualService {
    /// How the kernel keys the service: protocol, VIP and port, or its firewall mark.
    public var key: IPVSServiceKey { IPVSServiceKey(address, vip: vip) }
}
