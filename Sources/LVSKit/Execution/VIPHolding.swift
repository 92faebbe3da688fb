/// Which directors hold the VIP once VRRP has had its time, read after `up` of a director pair:
/// keepalived starts every instance as BACKUP, and one becomes MASTER only after three adverts
/// unheard, so the VIP answers a few seconds after `up` has started keepalived.
public struct VIPHolding: Codable, Sendable, Equatable {
    /// The directors holding the first VIP at the last reading.
    public var holders: [String]
    /// From the end of the hosts' changes to that reading.
    public var seconds: Double
    /// The longest lvsctl waited for one holder.
    public var bound: Double
    /// The interface VRRP speaks on (for the advice when the pair is split).
    public var interface: String

    public init(holders: [String], seconds: Double, bound: Double, interface: String) {
        self.holders = holders
        self.seconds = seconds
        self.bound = bound
        self.interface = interface
    }

    /// Exactly one director holds the VIP.
    public var settled: Bool { holders.count == 1 }

    /// What the recap says.
    public var text: String {
        let after = String(format: "%.1f s", seconds)
        switch holders.count {
        case 1: return "held by \(holders[0]) (MASTER), \(after) after the hosts' changes"
        case 0: return "held by no director after \(after): is keepalived running on each? (`lvsctl status` shows their VRRP states and logs)"
        default:
            return "held by \(holders.joined(separator: " and ")) after \(after): each is MASTER, so they do not hear each other's"
                + " adverts on \(interface) (a firewall dropping IP protocol 112, or another virtual_router_id on the segment?)"
        }
    }
}

extension VRRP {
    /// How long an election may take after keepalived starts: the master-down interval (three
    /// adverts and a skew under one), and 10 s for keepalived to start on a slow host.
    public var electionBound: Double { Double(4 * advertCentiseconds) / 100 + 10 }
}
