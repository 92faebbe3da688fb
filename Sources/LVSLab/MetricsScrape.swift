import LVSKit

/// One scrape of a director's node exporter, kept to the IPVS families (node exporter's
/// `node_ipvs_*` and lvsctl's `lvsctl_*`), read from Prometheus' text format.
public struct MetricsScrape: Sendable {
    public struct Sample: Sendable, Hashable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    public let samples: [Sample]

    public init(text: String) {
        samples = text.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("node_ipvs_") || line.hasPrefix("lvsctl_") else { return nil }
            return Self.sample(String(line))
        }
    }

    /// `name{a="x",b="y"} value` or `name value`; the values of these families hold no quote.
    static func sample(_ line: String) -> Sample? {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
        let head = line[..<space]
        guard let brace = head.firstIndex(of: "{") else { return Sample(name: String(head), labels: [:], value: value) }
        var labels: [String: String] = [:]
        for pair in head[head.index(after: brace)...].dropLast().split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
        }
        return Sample(name: String(head[..<brace]), labels: labels, value: value)
    }

    /// The kernel's five totals from /proc/net/ip_vs_stats (hexadecimal, on the line after the
    /// two header lines): connections, packets in and out, bytes in and out.
    public static func kernelTotals(_ text: String) -> [Int] {
        let lines = text.split(separator: "\n")
        guard lines.count >= 3 else { return [] }
        return lines[2].split(separator: " ").compactMap { Int($0, radix: 16) }
    }

    public func value(_ name: String, _ labels: [(String, String)] = []) -> Double? {
        let wanted = Dictionary(uniqueKeysWithValues: labels)
        return samples.first { $0.name == name && $0.labels == wanted }?.value
    }

    /// What the scrape says that the director's table (`ipvsadm -L -n` with `--stats`), its
    /// kernel's totals or the inventory do not: each real server's live weight and connections,
    /// the five totals, and the weight the inventory wants under the same labels as the live one
    /// (so the two join). Empty when they agree.
    public func disagreements(table: IPVSTable, totals: [Int], desired: DesiredCluster) -> [String] {
        var found: [String] = []
        func compare(_ name: String, _ labels: [(String, String)], _ expected: Int) {
            let got = value(name, labels)
            if got != Double(expected) {
                found.append("\(name){\(labels.map { "\($0.0)=\($0.1)" }.joined(separator: ","))}: \(got.map { String($0) } ?? "missing"), expected \(expected)")
            }
        }
        for service in table.services {
            for destination in service.destinations {
                let labels = MetricsTextfile.labels(service.key, remote: destination.endpoint)
                compare("node_ipvs_backend_weight", labels, destination.weight)
                let counts = table.connections[service.key]?[destination.endpoint]
                compare("node_ipvs_backend_connections_active", labels, counts?.active ?? 0)
                compare("node_ipvs_backend_connections_inactive", labels, counts?.inactive ?? 0)
            }
        }
        // The director's totals count since ip_vs loaded, services gone included: they are held
        // against the kernel's own (/proc/net/ip_vs_stats) and must hold the services' counts.
        let names = ["connections", "incoming_packets", "outgoing_packets", "incoming_bytes", "outgoing_bytes"]
        for (name, total) in zip(names, totals) { compare("node_ipvs_\(name)_total", [], total) }
        if totals.count != names.count { found.append("/proc/net/ip_vs_stats gave \(totals.count) totals, not \(names.count)") }
        let connections = table.serviceStats.values.map(\.connections).reduce(0, +)
        if let total = totals.first, total < connections { found.append("\(total) connections in all, fewer than the services' \(connections)") }
        for service in desired.ipvsServices {
            for destination in service.destinations {
                let labels = MetricsTextfile.labels(service.key, remote: destination.endpoint)
                compare("lvsctl_backend_desired_weight", labels, destination.weight)
                compare("lvsctl_backend_draining", labels, destination.weight == 0 ? 1 : 0)
                if value("node_ipvs_backend_weight", labels) == nil { found.append("lvsctl_backend_desired_weight joins no node_ipvs_backend_weight: \(labels)") }
            }
        }
        return found
    }
}
