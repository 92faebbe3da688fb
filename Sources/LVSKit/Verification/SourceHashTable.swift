/// The bucket table of the kernel's `sh` scheduler (net/netfilter/ipvs/ip_vs_sh.c): 256
/// buckets dealt to the destinations in the order the kernel lists them, each taking as many
/// consecutive buckets as its weight (one for weight 0), round after round; a source address
/// picks its bucket by the kernel's `hash_32` (multiplication by the golden ratio, top 8 bits).
/// Like `MaglevTable`, it says where each of a few sources goes, which shares cannot.
public struct SourceHashTable: Sendable, Equatable {
    public static let size = 256
    /// For each bucket, the index (into the destinations given) of the server it sends to.
    public let buckets: [Int?]

    /// `destinations`: endpoint and weight in the kernel's order (`ipvsadm -Ln --nosort`).
    public init(destinations: [(endpoint: Endpoint, weight: Int)]) {
        guard !destinations.isEmpty else {
            buckets = Array(repeating: nil, count: Self.size)
            return
        }
        var dealt: [Int?] = [], index = 0, taken = 0
        for _ in 0..<Self.size {
            dealt.append(index)
            taken += 1
            if taken >= destinations[index].weight {
                index = (index + 1) % destinations.count
                taken = 0
            }
        }
        buckets = dealt
    }

    /// The destination (its index) a connection from `source` goes to.
    public func destination(for source: IPAddress) -> Int? {
        buckets[Int((MaglevTable.fold(source) &* 0x61C8_8647) >> 24)]
    }
}

/// Where a source-hashing scheduler (`sh`, `mh`) sends each client address, from the table the
/// kernel builds out of the destinations in its order; nil for any other scheduler, or when a
/// destination of weight 0 is listed (the kernel then hashes by a weight the listing does not
/// show, or skips the server the hash chose).
public enum SourceHashing {
    public static func destinations(_ scheduler: Scheduler, listed: [(endpoint: Endpoint, weight: Int)],
                                    sources: [IPAddress]) -> [IPAddress: Endpoint]? {
        guard !listed.isEmpty, listed.allSatisfy({ $0.weight > 0 }) else { return nil }
        let pick: (IPAddress) -> Int?
        switch scheduler {
        case .mh: pick = MaglevTable(destinations: listed).destination(for:)
        case .sh: pick = SourceHashTable(destinations: listed).destination(for:)
        default: return nil
        }
        var chosen: [IPAddress: Endpoint] = [:]
        for source in sources { if let index = pick(source) { chosen[source] = listed[index].endpoint } }
        return chosen
    }
}
