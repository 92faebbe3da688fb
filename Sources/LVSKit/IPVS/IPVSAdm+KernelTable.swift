/// The director's table read from `/proc/net/ip_vs` and the thresholds listing, instead of
/// `ipvsadm -S -n` and the thresholds listing. ipvsadm asks the kernel for each service's
/// destinations with a netlink dump of their own: on the lab's director `-S -n` of 1 000 services
/// takes 0.44 s of CPU, the kernel's own listing 0.02 s. Neither says everything lvsctl keeps:
/// `/proc/net/ip_vs` names each destination's method and weight, which the thresholds listing
/// leaves out; the thresholds listing names the rest (scheduler flags, persistence in seconds
/// where the kernel's listing has jiffies, the netmask, the family of a firewall-mark service,
/// the thresholds, and the kernel's order of destinations). Together they make the table the
/// two ipvsadm listings made, ordered as `-S -n` orders it.
extension IPVSAdm {
    public static let readKernelTable = "cat /proc/net/ip_vs"

    public static func table(kernel: String, thresholds: String, stats: String? = nil) -> IPVSTable {
        let methodsAndWeights = kernelDestinations(kernel)
        var table = IPVSTable()
        readListing(thresholds, into: &table) { key, endpoint in
            methodsAndWeights[key.kernelListingKey]?[endpoint].map {
                IPVSDestination(address: endpoint.address, port: endpoint.port, method: $0.method, weight: $0.weight)
            }
        }
        table.services = table.services.sorted { $0.key.saveOrder < $1.key.saveOrder }.map { service in
            var service = service
            service.destinations.sort { $0.endpoint < $1.endpoint }
            return service
        }
        if let stats { readListing(stats, into: &table) }
        return table
    }

    /// Per service, each destination's method and weight, as `/proc/net/ip_vs` prints them:
    ///
    ///     TCP  C0A800C8:0050 wrr
    ///       -> 0A00000B:0050      Route   1      0          0
    ///     UDP  [fd00:0000:0000:0000:0000:0000:0000:0005]:0035 mh
    ///       -> [fd00:0000:0000:0000:0000:0000:0000:0011]:0035      Tunnel  0      0          0
    ///     FWM  00000007 rr persistent 15000 FFFFFFFF
    static func kernelDestinations(_ text: String) -> [KernelListingKey: [Endpoint: (method: ForwardingMode, weight: Int)]] {
        var found: [KernelListingKey: [Endpoint: (method: ForwardingMode, weight: Int)]] = [:]
        var current: KernelListingKey?
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count >= 2 else { continue }
            switch words[0] {
            case "TCP", "UDP", "SCTP":
                current = kernelEndpoint(words[1]).map { .socket(protocol: String(words[0]), $0) }
            case "FWM":
                current = UInt32(words[1], radix: 16).map { .mark(Int($0)) }
            case "->":
                // The heading's `-> RemoteAddress:Port …` parses as no endpoint.
                guard let key = current, words.count >= 4, let endpoint = kernelEndpoint(words[1]), let weight = Int(words[3]) else { continue }
                // A mark's family is its destinations' (the kernel's listing does not print it).
                let listed: KernelListingKey = if case let .mark(mark) = key { .markOf(mark, endpoint.address.family) } else { key }
                found[listed, default: [:]][endpoint] = (method(forwardColumn: words[2]), weight)
            default:
                current = nil
            }
        }
        return found
    }

    /// `C0A800C8:0050` or `[fd00:0000:…:0011]:0035`: an address in hexadecimal (IPv4) or in
    /// full (IPv6), and a hexadecimal port.
    static func kernelEndpoint(_ word: Substring) -> Endpoint? {
        guard let colon = word.lastIndex(of: ":"), let port = Int(word[word.index(after: colon)...], radix: 16) else { return nil }
        let host = word[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") {
            guard case let .success(address) = IPAddress.parse(String(host.dropFirst().dropLast())) else { return nil }
            return Endpoint(address, port: port)
        }
        guard host.count == 8, let value = UInt32(host, radix: 16) else { return nil }
        return Endpoint(IPAddress(family: .v4, bytes: (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) }), port: port)
    }
}

/// A service as `/proc/net/ip_vs` names it: a firewall mark without its family, which its
/// destinations' addresses give.
enum KernelListingKey: Hashable {
    case socket(protocol: String, Endpoint)
    case mark(Int)
    case markOf(Int, IPAddress.Family)
}

extension IPVSServiceKey {
    var kernelListingKey: KernelListingKey {
        switch self {
        case let .tcp(address, port): return .socket(protocol: "TCP", Endpoint(address, port: port))
        case let .udp(address, port): return .socket(protocol: "UDP", Endpoint(address, port: port))
        case let .sctp(address, port): return .socket(protocol: "SCTP", Endpoint(address, port: port))
        case let .fwmark(mark, family): return .markOf(mark, family)
        }
    }

    /// ipvsadm's order of services (`-S -n` sorts them): by mark (0 for an address), family,
    /// protocol number, address, port.
    var saveOrder: SaveOrder {
        switch self {
        case let .tcp(address, port): return SaveOrder(mark: 0, v6: address.isV6, protocolNumber: 6, address: address.bytes, port: port)
        case let .udp(address, port): return SaveOrder(mark: 0, v6: address.isV6, protocolNumber: 17, address: address.bytes, port: port)
        case let .sctp(address, port): return SaveOrder(mark: 0, v6: address.isV6, protocolNumber: 132, address: address.bytes, port: port)
        case let .fwmark(mark, family): return SaveOrder(mark: mark, v6: family == .v6, protocolNumber: 0, address: [], port: 0)
        }
    }

    struct SaveOrder: Comparable {
        let mark: Int, v6: Bool, protocolNumber: Int, address: [UInt8], port: Int
        static func < (a: SaveOrder, b: SaveOrder) -> Bool {
            if a.mark != b.mark { return a.mark < b.mark }
            if a.v6 != b.v6 { return !a.v6 }
            if a.protocolNumber != b.protocolNumber { return a.protocolNumber < b.protocolNumber }
            if a.address != b.address { return a.address.lexicographicallyPrecedes(b.address) }
            return a.port < b.port
        }
    }
}
