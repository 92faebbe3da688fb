import Foundation

/// A director's IPVS table as `up` finishes its changes: counting connections while real servers
/// drain, then deleting what drained and ending scheduler bridges. Two implementations: the
/// director's conversation (LVSRunner's `DirectorIPVS`: ipvsadm over the host's shell, each
/// change recorded first) and the in-memory `IPVSTwin` (LVSTestSupport), so the drain is proven
/// against the kernel's behaviour in milliseconds (kube-proxy's `pkg/util/ipvs` interface with
/// its fake is the model).
public protocol IPVSInterface {
    /// The connection counts of these services (the thresholds listing); nil when the director
    /// could not be read.
    mutating func connections(of keys: [IPVSServiceKey]) async -> IPVSTable?
    /// Makes the changes in order, stopping at the first that fails, then ends the bridges; how
    /// each change went (nil: not reached).
    mutating func apply(_ steps: [HostScript.IPVSStep], endingBridges bridges: [SchedulerBridge]) async -> [HostOutput.Step?]
}

/// What waits for connections to end after a director's changes: a real server leaving a
/// service (weight 0, deleted once it has no connections, active or not), or a scheduler bridge
/// (deleted once no connection it took is still established).
public enum Draining: Sendable, Equatable {
    case destination(IPVSServiceKey, IPVSDestination)
    case bridge(SchedulerBridge)

    public var service: IPVSServiceKey {
        switch self {
        case let .destination(key, _): return key
        case let .bridge(bridge): return bridge.service.key
        }
    }

    /// Connections still holding it, or nil once there are none.
    public func remaining(_ table: IPVSTable) -> IPVSConnectionCounts? {
        switch self {
        case let .destination(key, destination):
            guard let counts = table.connections[key]?[destination.endpoint], counts.total > 0 else { return nil }
            return counts
        case let .bridge(bridge):
            let active = table.connections[bridge.service.key]?.values.map(\.active).reduce(0, +) ?? 0
            return active > 0 ? IPVSConnectionCounts(active: active, inactive: 0) : nil
        }
    }
}

/// Graceful termination as its own component (kube-proxy's graceful-termination manager is the
/// model): what drains is counted every `poll` until nothing holds it or `timeout` passed, then
/// deleted in one batch; each real server's verdict says which happened.
public struct GracefulTermination: Sendable {
    public enum Verdict: Sendable, Equatable, CustomStringConvertible {
        case drained(after: Duration)
        case timedOut(after: Duration, remaining: IPVSConnectionCounts)
        /// The director stopped answering before it drained.
        case unknown

        public var description: String {
            switch self {
            case let .drained(after): return "drained: no connections left after \(Self.format(after)); deleted"
            case let .timedOut(after, counts):
                return "drain timed out after \(Self.format(after)) with \(counts.active) active and \(counts.inactive) inactive connections; deleted"
            case .unknown: return "the director stopped answering while it drained"
            }
        }

        static func format(_ duration: Duration) -> String {
            String(format: "%.1f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
        }
    }

    public let items: [Draining]
    public var poll: Duration
    public var timeout: Duration

    /// What `steps` leave draining: leaving real servers and scheduler bridges.
    public init(_ steps: [HostScript.IPVSStep], poll: Duration, timeout: Duration) {
        items = steps.compactMap { step -> Draining? in
            if case let .drainDestination(key, destination) = step.change { return .destination(key, destination) }
            return step.change.bridge.map(Draining.bridge)
        }
        self.poll = poll
        self.timeout = timeout
    }

    /// The services whose connections are counted, each once, in a stable order.
    public static func services(_ items: [Draining]) -> [IPVSServiceKey] {
        Array(Set(items.map(\.service))).sorted { $0.description < $1.description }
    }

    public var services: [IPVSServiceKey] { Self.services(items) }

    /// The deletions that end the drain (the bridges end beside them).
    public var deletions: [HostScript.IPVSStep] {
        items.compactMap {
            guard case let .destination(key, destination) = $0 else { return nil }
            return HostScript.IPVSStep(change: .deleteDestination(key, destination))
        }
    }

    public var bridges: [SchedulerBridge] {
        items.compactMap { if case let .bridge(bridge) = $0 { return bridge }; return nil }
    }

    /// Counts connections until each item is free or timed out (`first`: a count made with the
    /// changes, saving a round trip), then deletes them all. The verdicts, one per item, and how
    /// each deletion went (one per `deletions`, in order).
    public func run<Director: IPVSInterface>(on director: inout Director, first: IPVSTable?,
                                             clock: ContinuousClock = ContinuousClock()) async -> (verdicts: [Verdict], deleted: [HostOutput.Step?]) {
        guard !items.isEmpty else { return ([], []) }
        let started = clock.now
        var pending = Array(items.indices)
        var verdicts = [Verdict](repeating: .unknown, count: items.count)
        var reading = first
        while !pending.isEmpty {
            if reading == nil {
                try? await Task.sleep(for: poll)
                reading = await director.connections(of: Self.services(pending.map { items[$0] }))
                if reading == nil { break }   // the director is gone: nothing more to learn
            }
            let elapsed = clock.now - started
            pending.removeAll { index in
                guard let counts = items[index].remaining(reading!) else {
                    verdicts[index] = .drained(after: elapsed)
                    return true
                }
                guard elapsed < timeout else {
                    verdicts[index] = .timedOut(after: elapsed, remaining: counts)
                    return true
                }
                return false
            }
            reading = nil
        }
        let deleted = await director.apply(deletions, endingBridges: bridges)
        return (verdicts, deleted)
    }
}
