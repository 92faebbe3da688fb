import Foundation

/// How one change went: planned (plan), done or failed (up, down), or not run because an
/// earlier one failed.
public enum ChangeStatus: String, Codable, Sendable {
    case planned, done, failed
    case notRun = "not-run"
}

public struct ChangeOutcome: Codable, Sendable, Equatable {
    public var change: ResourceChange
    public var status: ChangeStatus
    public var milliseconds: Int
    /// What the host printed when it failed.
    public var output: String?
    /// The shell that failed, for the error report.
    public var command: String?

    public init(change: ResourceChange, status: ChangeStatus, milliseconds: Int = 0, output: String? = nil, command: String? = nil) {
        self.change = change
        self.status = status
        self.milliseconds = milliseconds
        self.output = output
        self.command = command
    }
}

/// Per host: resources already right, changes by kind, and how many failed or did not run.
public struct HostCounts: Codable, Sendable, Equatable {
    public var ok = 0
    public var added = 0
    public var changed = 0
    public var removed = 0
    public var leftAlone = 0
    public var failed = 0
    public var notRun = 0
    public var unreachable = 0
    public var locked = 0
}

/// What happened on one host during one verb.
public struct HostReport: Codable, Sendable {
    public var host: String
    public var address: String
    public var reachable: Bool
    /// Why the host could not be used (unreachable, authentication, sudo), or why it stopped.
    public var error: String?
    /// Set when another lvsctl run held the host: who it was.
    public var lockedBy: String?
    /// The host's lock was held by a run whose lvsctl is gone; this run waited for its shell.
    public var waitedFor: String?
    /// The host has left the cluster (the inventory no longer names it): it is being restored.
    public var leaving = false
    /// How it was reached when through jump hosts: `bastion → director → rs1`.
    public var route: String?
    /// Resources already as wanted.
    public var unchanged = 0
    public var changes: [ChangeOutcome] = []
    public var roundTrips = 0
    /// Connections it took to log in: 2 when a failed key exchange, or a connection the server
    /// reset as it was made, was retried.
    public var handshakes = 0
    public var seconds: Double = 0
    public var counts = HostCounts()

    public init(host: String, address: String, reachable: Bool, error: String? = nil) {
        self.host = host
        self.address = address
        self.reachable = reachable
        self.error = error
    }

    public var failed: Bool {
        !reachable || error != nil || lockedBy != nil || changes.contains { $0.status == .failed || $0.status == .notRun }
    }

    /// Fills `counts` from the rest (done once a host's report is complete).
    public mutating func tally() {
        var counts = HostCounts(ok: unchanged)
        for outcome in changes {
            switch outcome.status {
            case .failed: counts.failed += 1
            case .notRun: counts.notRun += 1
            case .planned, .done:
                switch outcome.change.action {
                case .add: counts.added += 1
                case .change: counts.changed += 1
                case .remove: counts.removed += 1
                case .leftAlone: counts.leftAlone += 1
                }
            }
        }
        counts.unreachable = reachable ? 0 : 1
        counts.locked = lockedBy == nil ? 0 : 1
        self.counts = counts
    }
}

/// The end-of-run summary, as text and as JSON.
public struct Recap: Codable, Sendable {
    public var verb: String
    public var inventory: String
    public var hosts: [HostReport]
    public var seconds: Double
    /// `up` of a director pair: which director took the VIP.
    public var vip: VIPHolding?

    public init(verb: String, inventory: String, hosts: [HostReport], seconds: Double) {
        self.verb = verb
        self.inventory = inventory
        self.hosts = hosts.map { var host = $0; host.tally(); return host }
        self.seconds = seconds
    }

    /// 0 when every host did everything; 2 when a host was unreachable; 75 when another lvsctl
    /// run held a host; 1 for any other failure.
    public var exitCode: Int32 {
        if hosts.contains(where: { !$0.reachable }) { return 2 }
        if hosts.contains(where: { $0.lockedBy != nil }) { return 75 }   // EX_TEMPFAIL: try again later
        return hosts.contains(where: \.failed) || vip?.settled == false ? 1 : 0
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    public var text: String {
        var lines = ["", "RECAP (\(verb), \(String(format: "%.2f", seconds)) s)"]
        let width = max(8, hosts.map(\.host.count).max() ?? 0)
        for host in hosts {
            let name = host.host.padding(toLength: width, withPad: " ", startingAt: 0)
            if !host.reachable {
                lines.append("\(name)  unreachable: \(host.error ?? "")")
                continue
            }
            if let owner = host.lockedBy {
                lines.append("\(name)  locked: being changed by another lvsctl run (\(owner)); nothing done")
                continue
            }
            let c = host.counts
            let changes = c.added + c.changed + c.removed
            var words = ["ok=\(c.ok)", "\(verb == "plan" ? "to-change" : "changed")=\(changes) (+\(c.added) ~\(c.changed) -\(c.removed))",
                         "failed=\(c.failed)"]
            if c.notRun > 0 { words.append("not-run=\(c.notRun)") }
            if c.leftAlone > 0 { words.append("left-alone=\(c.leftAlone)") }
            words.append("unreachable=0")
            lines.append("\(name)  \(words.joined(separator: "  "))\(host.leaving ? "  (left the cluster)" : "")")
        }
        if let vip { lines.append("\("VIP".padding(toLength: width, withPad: " ", startingAt: 0))  \(vip.text)") }
        return lines.joined(separator: "\n")
    }
}
