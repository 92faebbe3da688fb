import Foundation

/// How one step went on one host.
public enum StepStatus: String, Codable, Sendable {
    case ok, changed, failed
    case wouldChange = "would-change"
    case restored, skipped
    /// The host script stopped before reaching it.
    case notRun = "not-run"
}

public struct StepOutcome: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var status: StepStatus
    public var milliseconds: Int
    /// What the step printed when it failed (its stderr and stdout).
    public var output: String?
    /// The shell that failed, for the error report.
    public var command: String?
}

/// What happened on one host during one verb.
public struct HostReport: Codable, Sendable {
    public var host: String
    public var address: String
    public var reachable: Bool
    /// Why the host could not be used (unreachable, authentication, sudo), or why its script stopped.
    public var error: String?
    public var steps: [StepOutcome]
    public var roundTrips: Int
    /// Connections it took to log in: 2 when a failed key exchange was retried.
    public var handshakes: Int
    public var seconds: Double

    public init(host: String, address: String, reachable: Bool, error: String? = nil, steps: [StepOutcome] = [],
                roundTrips: Int = 0, handshakes: Int = 0, seconds: Double = 0) {
        self.host = host
        self.address = address
        self.reachable = reachable
        self.error = error
        self.steps = steps
        self.roundTrips = roundTrips
        self.handshakes = handshakes
        self.seconds = seconds
    }

    public func count(_ status: StepStatus) -> Int { steps.filter { $0.status == status }.count }
    public var failed: Bool { !reachable || error != nil || steps.contains { $0.status == .failed || $0.status == .notRun } }
}

/// The end-of-run summary, as text and as JSON.
public struct Recap: Codable, Sendable {
    public var verb: String
    public var inventory: String
    public var hosts: [HostReport]
    public var seconds: Double

    public init(verb: String, inventory: String, hosts: [HostReport], seconds: Double) {
        self.verb = verb
        self.inventory = inventory
        self.hosts = hosts
        self.seconds = seconds
    }

    /// 0 when every host did everything; 2 when a host was unreachable; 1 for any other failure.
    public var exitCode: Int32 {
        if hosts.contains(where: { !$0.reachable }) { return 2 }
        return hosts.contains(where: \.failed) ? 1 : 0
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
            var counts = [StepStatus.ok, .changed, .wouldChange, .restored, .skipped, .failed, .notRun]
                .filter { $0 == .ok || $0 == .changed || $0 == .failed || host.count($0) > 0 }
                .map { "\($0.rawValue)=\(host.count($0))" }
            counts.append("unreachable=0")
            lines.append("\(name)  \(counts.joined(separator: "  "))")
        }
        return lines.joined(separator: "\n")
    }
}

/// Reads the marker lines a host script printed.
public enum HostOutput {
    /// Outcomes of `plan` and `up`, one per step, in order.
    public static func steps(_ stdout: String, steps: [RenderedStep]) -> [StepOutcome] {
        var outcomes = steps.map { StepOutcome(id: $0.id, name: $0.name, status: .notRun, milliseconds: 0) }
        for line in stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            if fields.first == "@@lvsctl", fields.count >= 4, let index = Int(fields[1]), outcomes.indices.contains(index),
               let status = StepStatus(rawValue: String(fields[2])) {
                outcomes[index].status = status
                outcomes[index].milliseconds = Int(fields[3]) ?? 0
                if status == .failed { outcomes[index].command = steps[index].apply }
            } else if fields.first == "@@lvsctl-err", fields.count >= 2, let index = Int(fields[1]), outcomes.indices.contains(index) {
                let text = fields.count > 2 ? fields[2...].joined(separator: " ") : ""
                outcomes[index].output = (outcomes[index].output.map { $0 + "\n" } ?? "") + text
            }
        }
        return outcomes
    }

    /// Outcomes of `down`: one per undone step, in the order undone.
    public static func undo(_ stdout: String, names: [String: String]) -> [StepOutcome] {
        var outcomes: [StepOutcome] = []
        for line in stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            if fields.first == "@@lvsctl-undo", fields.count >= 4, let status = StepStatus(rawValue: fields[2]) {
                outcomes.append(StepOutcome(id: fields[1], name: names[fields[1]] ?? fields[1], status: status,
                                            milliseconds: Int(fields[3]) ?? 0))
            } else if fields.first == "@@lvsctl-err", fields.count >= 2, let index = outcomes.lastIndex(where: { $0.id == fields[1] }) {
                let text = fields.count > 2 ? fields[2...].joined(separator: " ") : ""
                outcomes[index].output = (outcomes[index].output.map { $0 + "\n" } ?? "") + text
            }
        }
        return outcomes
    }
}
