import Foundation

/// One director's reading for `lvsctl status --watch`: its live table with counters, or why it
/// could not be read.
public struct WatchSample: Sendable {
    public var director: String
    /// Seconds on a monotonic clock.
    public var time: Double
    public var table: IPVSTable?
    public var error: String?
    /// With VRRP: whether it holds a VIP now (nil: not asked, or unknown).
    public var holdsVIP: Bool?

    public init(director: String, time: Double, table: IPVSTable? = nil, error: String? = nil, holdsVIP: Bool? = nil) {
        self.director = director
        self.time = time
        self.table = table
        self.error = error
        self.holdsVIP = holdsVIP
    }
}

/// One refresh of `lvsctl status --watch`, as lines: per director its state, per service and
/// real server the weight, active and inactive connections, new connections and bytes per second
/// (against an earlier reading of the same director), and whether the real server is drained
/// (weight 0 where the inventory wants more, or no longer in the inventory), and the ones the
/// inventory wants that the table lacks (with keepalived: down by their health check).
public enum WatchFrame {
    /// IPVS sums its counters about every 2 s: a rate over less shows the last sum's traffic, or
    /// none (0.0 conn/s under load was seen over 0.5 and 1.4 s, and once over 2.0 s in CI, two
    /// readings between the same two sums). Longer than a period with room for a late timer,
    /// so that every rate spans at least one sum.
    public static let shortestRatePeriod = 2.5

    /// What `sample`'s rates are taken against: the newest of the director's earlier readings at
    /// least `shortestRatePeriod` older; nil (rates from a later refresh) while none is.
    public static func baseline(for sample: WatchSample, among older: [WatchSample]) -> WatchSample? {
        older.last { sample.time - $0.time >= shortestRatePeriod }
    }

    public static func lines(desired: [IPVSService], samples: [WatchSample], earlier: [String: WatchSample]) -> [String] {
        var lines: [String] = []
        let wanted = Dictionary(desired.map { ($0.key, $0) }) { first, _ in first }
        for sample in samples {
            guard let table = sample.table else {
                lines.append("director \(sample.director): unreachable (\(sample.error ?? "no answer")); trying again")
                continue
            }
            var head = "director \(sample.director)"
            if let holds = sample.holdsVIP { head += holds ? ": active (holds the VIP)" : ": standing by" }
            let before = earlier[sample.director].flatMap { $0.table == nil ? nil : $0 }
            let seconds = before.map { sample.time - $0.time } ?? 0
            head += seconds > 0 ? String(format: "  (rates over %.1f s)", seconds) : "  (rates from the next refresh)"
            lines.append(head)
            if table.services.isEmpty { lines.append("  (no virtual services)") }
            for service in table.services {
                let old = before?.table?.serviceStats[service.key]
                var line = "  \(service.key.resourceID)  \(service.scheduler)"
                if wanted[service.key] == nil { line += "  (not in the inventory)" }
                if let stats = table.serviceStats[service.key] { line += "  " + rates(stats, old, seconds) }
                lines.append(line)
                for destination in service.destinations {
                    let counts = table.connections[service.key]?[destination.endpoint]
                    var line = "    → \(destination.endpoint)  weight \(destination.weight)"
                    line += "  active \(counts?.active ?? 0)  inactive \(counts?.inactive ?? 0)"
                    if let stats = table.destinationStats[service.key]?[destination.endpoint] {
                        line += "  " + rates(stats, before?.table?.destinationStats[service.key]?[destination.endpoint], seconds)
                    }
                    if let service = wanted[service.key] {
                        if let desiredWeight = service.destination(destination.endpoint)?.weight {
                            if destination.weight == 0 && desiredWeight > 0 { line += "  drained (weight 0, wanted \(desiredWeight))" }
                        } else {
                            line += "  draining (left the inventory)"
                        }
                    }
                    lines.append(line)
                }
                // Wanted but absent: keepalived took it out (its health check fails), or up has
                // not added it yet.
                for missing in wanted[service.key]?.destinations ?? [] where service.destination(missing.endpoint) == nil {
                    lines.append("    → \(missing.endpoint)  not in the table (health check failing, or not added yet)")
                }
            }
        }
        return lines
    }

    /// `2.0 conn/s  in 1.2 kB/s  out 0 B/s` from two readings of the counters.
    static func rates(_ now: IPVSStats, _ before: IPVSStats?, _ seconds: Double) -> String {
        guard let before, seconds > 0 else { return "conns \(now.connections)" }
        func per(_ a: Int, _ b: Int) -> Double { Double(max(0, a - b)) / seconds }
        return String(format: "%.1f conn/s", per(now.connections, before.connections))
            + "  in " + bytes(per(now.inBytes, before.inBytes)) + "  out " + bytes(per(now.outBytes, before.outBytes))
    }

    static func bytes(_ perSecond: Double) -> String {
        if perSecond >= 1_000_000 { return String(format: "%.1f MB/s", perSecond / 1_000_000) }
        if perSecond >= 1_000 { return String(format: "%.1f kB/s", perSecond / 1_000) }
        return String(format: "%.0f B/s", perSecond)
    }
}
