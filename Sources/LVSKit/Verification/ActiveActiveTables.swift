/// Active-active directors are one cluster only if each computes the same thing: the routers may
/// send any packet of a flow to any of them, and `mh` fills its Maglev table from the services'
/// settings, weights and the order the kernel lists the destinations in.
extension IPVSTable {
    /// The first table's rules with every table's counters added: each active-active director
    /// counts only the connections the routers sent it.
    public static func summingCounters(_ tables: [IPVSTable]) -> IPVSTable? {
        guard var sum = tables.first else { return nil }
        for table in tables.dropFirst() {
            for (key, byEndpoint) in table.connections {
                for (endpoint, counts) in byEndpoint {
                    sum.connections[key, default: [:]][endpoint] = sum.connections[key]?[endpoint].map { $0 + counts } ?? counts
                }
            }
            for (key, stats) in table.serviceStats { sum.serviceStats[key] = sum.serviceStats[key].map { $0 + stats } ?? stats }
            for (key, byEndpoint) in table.destinationStats {
                for (endpoint, stats) in byEndpoint {
                    sum.destinationStats[key, default: [:]][endpoint] = sum.destinationStats[key]?[endpoint].map { $0 + stats } ?? stats
                }
            }
        }
        return sum
    }
}

extension IPVSConnectionCounts {
    static func + (a: IPVSConnectionCounts, b: IPVSConnectionCounts) -> IPVSConnectionCounts {
        IPVSConnectionCounts(active: a.active + b.active, inactive: a.inactive + b.inactive)
    }
}

extension IPVSStats {
    static func + (a: IPVSStats, b: IPVSStats) -> IPVSStats {
        IPVSStats(connections: a.connections + b.connections, inPackets: a.inPackets + b.inPackets, outPackets: a.outPackets + b.outPackets,
                  inBytes: a.inBytes + b.inBytes, outBytes: a.outBytes + b.outBytes)
    }
}

extension TableJudge {
    /// One verdict per service the directors hold: every director lists it with the same settings,
    /// the same destinations (method, weight, thresholds) in the same kernel order.
    /// - tables: each director's name and table, the reference first.
    public static func sameOnEveryDirector(_ tables: [(director: String, table: IPVSTable)]) -> [Verdict] {
        guard let (reference, first) = tables.first else { return [] }
        var keys = first.services.map(\.key)
        for (_, table) in tables.dropFirst() { keys += table.services.map(\.key).filter { first.service($0) == nil && !keys.contains($0) } }
        let names = tables.map(\.director).joined(separator: ", ")
        return keys.map { key in
            var differences: [String] = []
            let wanted = first.service(key)
            for (director, table) in tables.dropFirst() {
                guard let service = table.service(key) else { differences.append("\(director) lacks it"); continue }
                guard let wanted else { differences.append("\(reference) lacks it"); break }
                differences += differencesBetween(wanted, service, order: (first.kernelOrder(of: key) ?? [], table.kernelOrder(of: key) ?? []))
                    .map { "\(director): \($0)" }
            }
            let detail = differences.isEmpty
                ? "\(names): scheduler \(wanted.map(schedulerWords) ?? "?"), real servers in one order: "
                    + (first.kernelOrder(of: key) ?? []).map(\.description).joined(separator: " ")
                : differences.joined(separator: "; ") + " (against \(reference))"
            return Verdict(.sameOnEveryDirector, check: "\(key.resourceID) the same on every director", passed: differences.isEmpty, detail: detail)
        }
    }

    static func schedulerWords(_ service: IPVSService) -> String {
        service.scheduler + (service.schedulerFlags.map { " (\($0))" } ?? "")
    }

    /// What differs of `other` against `reference`, in plan's words.
    static func differencesBetween(_ reference: IPVSService, _ other: IPVSService, order: ([Endpoint], [Endpoint])) -> [String] {
        var found = IPVSReconciler.settingsDifferences(reference, other).map(\.text)
        for destination in reference.destinations {
            guard let theirs = other.destination(destination.endpoint) else { found.append("lacks \(destination.endpoint)"); continue }
            found += IPVSReconciler.destinationDifferences(destination, theirs).map { "\(destination.endpoint) \($0.text)" }
        }
        found += other.destinations.filter { reference.destination($0.endpoint) == nil }.map { "also holds \($0.endpoint)" }
        if found.isEmpty && order.0 != order.1 {
            found.append("lists " + order.1.map(\.description).joined(separator: " ")
                         + " (not " + order.0.map(\.description).joined(separator: " ") + ")")
        }
        return found
    }
}
