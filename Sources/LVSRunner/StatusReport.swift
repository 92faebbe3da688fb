import Foundation
import LVSKit

/// `lvsctl status`: the desired table, the live one with its counters, and what `up` would change.
public struct StatusReport: Sendable {
    public var desired: [IPVSService]
    /// nil when the director could not be read, or has no IPVS loaded.
    public var live: IPVSTable?
    public var drift: Recap

    /// Any host where `up` would change something, or that could not be read.
    public var drifted: Bool { drift.hosts.contains { !$0.changes.isEmpty || $0.failed } }

    public var text: String {
        var lines = ["==> desired IPVS table (ipvsadm-save -n)"]
        lines += desired.flatMap(IPVSAdm.saveLines)
        lines.append("==> live IPVS table on the director, with counters since each service was created")
        if let live {
            if live.services.isEmpty { lines.append("    (no virtual services)") }
            for service in live.services {
                var head = "  \(service.key.resourceID)  \(service.scheduler)"
                if let timeout = service.persistence { head += "  persistent \(timeout) s" }
                if let stats = live.serviceStats[service.key] { head += "  " + Self.words(stats) }
                lines.append(head)
                for destination in service.destinations {
                    var line = "    → \(destination.key)  \(destination.method.rawValue)  weight \(destination.weight)"
                    if let counts = live.connections[service.key]?[destination.key] { line += "  active \(counts.active)  inactive \(counts.inactive)" }
                    if let stats = live.destinationStats[service.key]?[destination.key] { line += "  " + Self.words(stats) }
                    lines.append(line)
                }
            }
        } else {
            lines.append("    (could not be read: IPVS not loaded, or the director unreachable)")
        }
        lines.append("==> drift: what `lvsctl up` would change")
        for host in drift.hosts {
            if !host.reachable || host.error != nil || host.lockedBy != nil {
                lines.append("  \(host.host): cannot tell: \(host.lockedBy.map { "locked by \($0)" } ?? host.error ?? "unreachable")")
            } else if host.changes.isEmpty {
                lines.append("  \(host.host): no drift (\(host.unchanged) ok)")
            } else {
                lines.append("  \(host.host):")
                lines += host.changes.map { "    \($0.change.text)" }
            }
        }
        return lines.joined(separator: "\n")
    }

    static func words(_ stats: IPVSStats) -> String {
        "conns \(stats.connections)  in \(stats.inPackets) pkts  out \(stats.outPackets) pkts"
    }
}
