/// The director's live IPVS table, read from `ipvsadm -S -n` and `ipvsadm -L -n --thresholds`,
/// compared with what the inventory wants, service by service and server by server.
public struct IPVSTable: Sendable, Equatable {
    public struct Service: Sendable, Equatable {
        public var scheduler: String
        public var persistence: String?
        public var netmask: String?
        /// server → (forwarding flag, weight)
        public var servers: [String: (method: String, weight: Int)]
        public var thresholds: [String: (upper: Int, lower: Int)] = [:]

        public static func == (a: Service, b: Service) -> Bool {
            a.scheduler == b.scheduler && a.persistence == b.persistence && a.netmask == b.netmask
                && a.servers.mapValues { "\($0.method) \($0.weight)" } == b.servers.mapValues { "\($0.method) \($0.weight)" }
                && a.thresholds.mapValues { "\($0.upper) \($0.lower)" } == b.thresholds.mapValues { "\($0.upper) \($0.lower)" }
        }
    }

    /// Keyed by `-t VIP:port` / `-u …` / `-f mark`.
    public var services: [String: Service] = [:]

    public init() {}

    /// Reads `ipvsadm -S -n` lines.
    public static func parse(save text: String) -> IPVSTable {
        var table = IPVSTable()
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard words.count >= 3 else { continue }
            let key = "\(words[1]) \(words[2])"
            func value(after flag: String) -> String? {
                words.firstIndex(of: flag).flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil }
            }
            if words[0] == "-A" {
                table.services[key] = Service(scheduler: value(after: "-s") ?? "?", persistence: value(after: "-p"),
                                              netmask: value(after: "-M"), servers: [:])
            } else if words[0] == "-a", let server = value(after: "-r") {
                let method = ["-g", "-m", "-i"].first(where: words.contains) ?? "?"
                table.services[key, default: Service(scheduler: "?", servers: [:])].servers[server] =
                    (method, Int(value(after: "-w") ?? "") ?? -1)
            }
        }
        return table
    }

    /// Adds `ipvsadm -L -n --thresholds` for one service (`-> server upper lower …` lines).
    public mutating func addThresholds(_ text: String, service key: String) {
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard words.count >= 4, words[0] == "->", let upper = Int(words[2]), let lower = Int(words[3]) else { continue }
            services[key]?.thresholds[words[1]] = (upper, lower)
        }
    }

    /// What the inventory wants, in the same shape.
    public static func desired(_ inventory: Inventory) -> IPVSTable {
        var table = IPVSTable()
        for service in inventory.services {
            let rules = IPVSRules(service: service, mode: inventory.mode)
            var entry = Service(scheduler: service.scheduler.rawValue, persistence: service.persistence.map(String.init),
                                netmask: rules.netmask, servers: [:])
            for server in service.realServers {
                entry.servers[rules.server(server)] = (inventory.mode.ipvsadmFlag, server.weight)
                entry.thresholds[rules.server(server)] = (server.upperThreshold, server.lowerThreshold)
            }
            table.services["\(rules.flag) \(rules.address)"] = entry
        }
        return table
    }

    /// One verdict per desired service: equal, or each difference in words.
    public func compare(toDesired desired: IPVSTable) -> [Verdict] {
        desired.services.keys.sorted().map { key in
            let want = desired.services[key]!
            guard let have = services[key] else {
                return Verdict(check: "ipvsadm has \(key)", passed: false, detail: "service missing from the director's table")
            }
            var differences: [String] = []
            if have.scheduler != want.scheduler { differences.append("scheduler \(have.scheduler), wanted \(want.scheduler)") }
            if have.persistence != want.persistence { differences.append("persistence \(have.persistence ?? "none"), wanted \(want.persistence ?? "none")") }
            if have.netmask != want.netmask { differences.append("netmask \(have.netmask ?? "none"), wanted \(want.netmask ?? "none")") }
            for (server, target) in want.servers.sorted(by: { $0.key < $1.key }) {
                guard let actual = have.servers[server] else { differences.append("real server \(server) missing"); continue }
                if actual.method != target.method { differences.append("\(server) forwards with \(actual.method), wanted \(target.method)") }
                if actual.weight != target.weight { differences.append("\(server) weight \(actual.weight), wanted \(target.weight)") }
                if let t = have.thresholds[server], let w = want.thresholds[server], t != w {
                    differences.append("\(server) thresholds -x \(t.upper) -y \(t.lower), wanted -x \(w.upper) -y \(w.lower)")
                }
            }
            for server in have.servers.keys.sorted() where want.servers[server] == nil {
                differences.append("unexpected real server \(server)")
            }
            return Verdict(check: "ipvsadm -Ln matches \(key)", passed: differences.isEmpty,
                           detail: differences.isEmpty ? "scheduler \(want.scheduler), \(want.servers.count) real servers, methods and weights as in the inventory" : differences.joined(separator: "; "))
        }
    }
}
