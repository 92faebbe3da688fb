/// Changing a live service's scheduler without refusing anyone. The kernel's `-E` unbinds the old
/// scheduler and waits an RCU grace period before binding the new one; a new connection that
/// arrives meanwhile finds no scheduler and gets ICMP port unreachable (measured on the lab's
/// Debian 12 kernel: 10 refused connections in 50 swaps at ~30 requests per second). So lvsctl
/// bridges the swap: a temporary firewall-mark service with the new scheduler and the same real
/// servers takes new connections (IPVS looks up a packet's mark before its address), the real
/// service is edited while nothing new reaches it, the mark stops, and the bridge is deleted once
/// the connections it took have ended. Connection entries do not depend on the service that
/// scheduled them, so nothing established is cut.
public struct SchedulerBridge: Sendable, Equatable {
    public let from: IPVSService
    public let to: IPVSService

    public init(from: IPVSService, to: IPVSService) {
        self.from = from
        self.to = to
    }

    /// A mark of lvsctl's own range (0x1e5c0000 + 16 bits of the service's identity).
    public var mark: Int {
        Self.marks | Int(UInt64(ResourceID.fnv1a(to.key.description), radix: 16)! & 0xFFFF)
    }

    /// lvsctl's range of firewall marks for bridges.
    static let marks = 0x1E5C_0000

    /// The temporary service: the new settings and real servers, under the mark.
    public var service: IPVSService {
        IPVSService(key: .fwmark(mark, family), scheduler: to.scheduler, persistence: to.persistence, netmask: to.netmask,
                    schedulerFlags: to.schedulerFlags, destinations: to.destinations)
    }

    var family: IPAddress.Family {
        switch to.key {
        case let .tcp(address, _), let .udp(address, _), let .sctp(address, _): return address.family
        case let .fwmark(_, family): return family
        }
    }

    /// `iptables` or `ip6tables`, and the rule that marks the service's new packets.
    var iptables: String { family == .v6 ? "ip6tables" : "iptables" }
    var rule: [String] {
        switch to.key {
        case let .tcp(address, port): return ["-d", "\(address)/\(address.bitCount)", "-p", "tcp", "--dport", String(port)]
        case let .udp(address, port): return ["-d", "\(address)/\(address.bitCount)", "-p", "udp", "--dport", String(port)]
        case let .sctp(address, port): return ["-d", "\(address)/\(address.bitCount)", "-p", "sctp", "--dport", String(port)]
        case let .fwmark(mark, _): return ["-m", "mark", "--mark", String(mark)]
        }
    }

    /// Inserted first for an address match; appended (after the rule that sets the service's own
    /// mark) for a firewall-mark service.
    func ruleCommand(_ verb: String) -> String {
        let position: [String]
        if verb == "-D" { position = ["-D", "PREROUTING"] }
        else if case .fwmark = to.key { position = ["-A", "PREROUTING"] }
        else { position = ["-I", "PREROUTING", "1"] }
        return ([iptables, "-t", "mangle"] + position + rule + ["-j", "MARK", "--set-mark", String(mark)])
            .map(ShellQuote.quote).joined(separator: " ")
    }

    /// The resource the bridge is recorded as while it lives (its undo removes both halves).
    public var resourceID: ResourceID { service.key.resourceID }

    public var undo: String {
        "\(IPVSAdm.shell(IPVSAdm.deleteService(service.key))) 2>/dev/null || :\n\(ruleCommand("-D")) 2>/dev/null || :"
    }

    /// Bridge, edit, unbridge: one `{ … }` list, stopping at the first failure.
    public var commands: [String] {
        IPVSAdm.create(service).map(IPVSAdm.shell) + [ruleCommand("-I"), IPVSAdm.shell(IPVSAdm.editService(to)), ruleCommand("-D")]
    }
}

extension IPVSServiceKey {
    /// A scheduler bridge's temporary service (its record also removes a marking rule).
    public var isSchedulerBridge: Bool {
        guard case let .fwmark(mark, _) = self else { return false }
        return mark & ~0xFFFF == SchedulerBridge.marks
    }
}
