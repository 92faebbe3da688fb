import Foundation
import LVSKit

/// `lvsctl status`: the desired table, the live one with its counters, and what `up` would change.
public struct StatusReport: Sendable {
    public var desired: [IPVSService]
    /// nil when the director could not be read, or has no IPVS loaded.
    public var live: IPVSTable?
    public var drift: Recap
    /// The director whose live table this is.
    public var tableHost = ""
    /// Each director's keepalived, when keepalived runs the cluster.
    public var keepalived: [KeepalivedState] = []
    /// Active-active directors: whether their tables agree, and each one's bird.
    public var activeActive: ActiveActiveStatus?
    var services: [VirtualService] = []

    /// Any host where `up` would change something, or that could not be read.
    public var drifted: Bool { drift.hosts.contains { !$0.changes.isEmpty || $0.failed } }

    public var text: String {
        var lines = ["==> desired IPVS table (ipvsadm-save -n)"]
        lines += desired.flatMap(IPVSAdm.saveLines)
        lines.append("==> live IPVS table on \(tableHost.isEmpty ? "the director" : tableHost), with counters since each service was created")
        if let live {
            if live.services.isEmpty { lines.append("    (no virtual services)") }
            for service in live.services {
                var head = "  \(service.key.resourceID)  \(service.scheduler)" + (service.schedulerFlags.map { " (\($0))" } ?? "")
                if let timeout = service.persistence { head += "  persistent \(timeout) s" }
                if let stats = live.serviceStats[service.key] { head += "  " + Self.words(stats) }
                lines.append(head)
                for destination in service.destinations {
                    var line = "    → \(destination.endpoint)  \(destination.method.rawValue)  weight \(destination.weight)"
                    if let counts = live.connections[service.key]?[destination.endpoint] { line += "  active \(counts.active)  inactive \(counts.inactive)" }
                    if let stats = live.destinationStats[service.key]?[destination.endpoint] { line += "  " + Self.words(stats) }
                    lines.append(line)
                }
            }
        } else {
            lines.append("    (could not be read: IPVS not loaded, or the director unreachable)")
        }
        if !keepalived.isEmpty { lines += keepalivedLines }
        if let activeActive { lines += activeActive.lines }
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

    /// The same as data: each live service with its destinations, counts and counters, and the drift.
    public var json: String {
        struct Destination: Encodable {
            var address: String, forwarding: String, weight: Int, upper: Int, lower: Int
            var connections: IPVSConnectionCounts?, stats: IPVSStats?
        }
        struct Service: Encodable {
            var service: String, scheduler: String, persistence: Int?, netmask: String?
            var stats: IPVSStats?, destinations: [Destination]
        }
        struct Document: Encodable { var desired: [String]; var live: [Service]?; var drift: Recap; var keepalived: [KeepalivedState]?; var realServers: [RealServerState]?
            var sameOnEveryDirector: [Verdict]?; var bird: [BirdState]? }
        let live = self.live.map { table in
            table.services.map { service in
                Service(service: service.key.description, scheduler: service.scheduler, persistence: service.persistence, netmask: service.netmask,
                        stats: table.serviceStats[service.key],
                        destinations: service.destinations.map {
                            Destination(address: $0.endpoint.description, forwarding: $0.method.rawValue, weight: $0.weight, upper: $0.upper, lower: $0.lower,
                                        connections: table.connections[service.key]?[$0.endpoint], stats: table.destinationStats[service.key]?[$0.endpoint])
                        })
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let document = Document(desired: desired.flatMap(IPVSAdm.saveLines), live: live, drift: drift,
                                keepalived: keepalived.isEmpty ? nil : keepalived, realServers: keepalived.isEmpty ? nil : realServerStates,
                                sameOnEveryDirector: activeActive?.sameOnEveryDirector, bird: activeActive?.bird)
        return String(decoding: (try? encoder.encode(document)) ?? Data(), as: UTF8.self)
    }

    static func words(_ stats: IPVSStats) -> String {
        "conns \(stats.connections)  in \(stats.inPackets) pkts  out \(stats.outPackets) pkts"
    }
}

/// What `status` adds for active-active directors.
public struct ActiveActiveStatus: Sendable {
    /// One verdict per service: every director lists it alike (empty with a single director).
    public var sameOnEveryDirector: [Verdict]
    public var bird: [BirdState]
    /// What each of lvsctl's bird protocols stands for.
    var meanings: [(name: String, meaning: String)]

    var lines: [String] {
        ["==> active-active directors (their counters added above)"] + sameOnEveryDirector.map(\.line) + bird.flatMap { $0.lines(meanings) }
    }
}
