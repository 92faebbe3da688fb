/// What the kernel's connection-counting schedulers (`lc`, `wlc`, `sed`, `nq`) will do with a
/// run of short connections, one after another, from the connections each real server holds
/// when the run starts. Each scheduler is the kernel's comparison (net/netfilter/ipvs/ip_vs_lc.c
/// and its siblings), in the order the director lists its destinations; a finished connection
/// counts as inactive until it expires. The model gives counts to judge by: where the servers
/// start unequal, these schedulers differ plainly from round robin (sed and nq send a run of
/// short connections to one server).
public enum ConnectionSchedulerModel {
    public struct Server: Sendable, Equatable {
        public var host: String
        public var weight: Int
        public var active: Int
        public var inactive: Int
        public init(host: String, weight: Int, active: Int, inactive: Int) {
            self.host = host
            self.weight = weight
            self.active = active
            self.inactive = inactive
        }
    }

    /// The host each of `count` connections goes to, or nil when the scheduler is not one of these.
    public static func predict(_ scheduler: Scheduler, servers start: [Server], count: Int) -> [String]? {
        guard [.lc, .wlc, .sed, .nq].contains(scheduler) else { return nil }
        var servers = start
        var chosen: [String] = []
        for _ in 0..<count {
            guard let pick = choose(scheduler, servers) else { break }
            chosen.append(servers[pick].host)
            servers[pick].inactive += 1
        }
        return chosen
    }

    static func choose(_ scheduler: Scheduler, _ servers: [Server]) -> Int? {
        let usable = servers.indices.filter { servers[$0].weight > 0 }
        // lc: (active × 256 + inactive), the first of the least.
        // wlc: the same over the weight; sed: (active + 1) over the weight; nq: the first server
        // with nothing active, else as sed. Cross-multiplied, strictly greater, as the kernel.
        func overhead(_ s: Server) -> Int {
            switch scheduler {
            case .lc, .wlc: return s.active * 256 + s.inactive
            default: return s.active + 1
            }
        }
        if scheduler == .nq, let idle = usable.first(where: { servers[$0].active == 0 }) { return idle }
        var least: Int?
        for index in usable {
            guard let current = least else { least = index; continue }
            let weighted = scheduler != .lc
            let better = weighted ? overhead(servers[current]) * servers[index].weight > overhead(servers[index]) * servers[current].weight
                : overhead(servers[index]) < overhead(servers[current])
            if better { least = index }
        }
        return least
    }
}
