extension IPVSService {
    /// One edit from a live service towards the desired one, the way kube-proxy's IPVS proxier
    /// makes them: a service that stays is edited in place (its connection entries and counters
    /// live on), a real server that leaves is drained before it is deleted.
    public enum Change: Hashable, Sendable {
        /// `-A`, then `-a` for each destination.
        case create(IPVSService)
        /// `-E`: scheduler, persistence, netmask or scheduler flags differ.
        case edit(from: IPVSService, to: IPVSService)
        /// `-D`: the service left the inventory.
        case delete(IPVSService)
        /// `-a`
        case addDestination(IPVSServiceKey, IPVSDestination)
        /// `-e`: weight, thresholds or forwarding method differ.
        case editDestination(IPVSServiceKey, from: IPVSDestination, to: IPVSDestination)
        /// `-e … -w 0`: takes no new connections; deleted once idle or when the drain times out.
        case drainDestination(IPVSServiceKey, IPVSDestination)
        /// `-d`
        case deleteDestination(IPVSServiceKey, IPVSDestination)

        /// A scheduler change goes through a temporary service (see `SchedulerBridge`).
        public var bridge: SchedulerBridge? {
            guard case let .edit(from, to) = self, from.scheduler != to.scheduler else { return nil }
            return SchedulerBridge(from: from, to: to)
        }

        /// The shell that makes the change.
        public var shell: [String] { bridge?.commands ?? commands.map(IPVSAdm.shell) }

        /// The ipvsadm commands that make the change (argument vectors; a bridged scheduler
        /// change is `-E` between the bridge's commands).
        public var commands: [[String]] {
            switch self {
            case let .create(service): return IPVSAdm.create(service)
            case let .edit(_, to): return [IPVSAdm.editService(to)]
            case let .delete(service): return [IPVSAdm.deleteService(service.key)]
            case let .addDestination(key, destination): return [IPVSAdm.addDestination(destination, to: key)]
            case let .editDestination(key, _, to): return [IPVSAdm.editDestination(to, in: key)]
            case let .drainDestination(key, destination):
                guard destination.weight != 0 else { return [] }   // already draining (an earlier run stopped)
                var idle = destination
                idle.weight = 0
                return [IPVSAdm.editDestination(idle, in: key)]
            case let .deleteDestination(key, destination): return [IPVSAdm.deleteDestination(destination, from: key)]
            }
        }

        /// Whether `table` shows the change made (how a batch the kernel refused in part is
        /// judged, change by change, from the table read back after it).
        public func isMade(in table: IPVSTable) -> Bool {
            switch self {
            case let .create(service):
                guard let live = table.service(service.key), live.settings == service.settings else { return false }
                return service.destinations.allSatisfy { live.destination($0.endpoint) == $0 }
            case let .edit(_, to): return table.service(to.key)?.settings == to.settings
            case let .delete(service): return table.service(service.key) == nil
            case let .addDestination(key, destination), let .editDestination(key, _, destination):
                return table.service(key)?.destination(destination.endpoint) == destination
            case let .drainDestination(key, destination):
                return table.service(key)?.destination(destination.endpoint).map { $0.weight == 0 } ?? true
            case let .deleteDestination(key, destination):
                return table.service(key).map { $0.destination(destination.endpoint) == nil } ?? true
            }
        }

        /// The same change in plan's words: one line, or for a new service one per destination too.
        public var descriptions: [ResourceChange] {
            guard case let .create(service) = self else { return [description] }
            return [description] + service.destinations.map { IPVSService.Change.addDestination(service.key, $0).description }
        }

        public var description: ResourceChange {
            switch self {
            case let .create(service):
                return ResourceChange(.add, service.key.resourceID.description, IPVSReconciler.settingsWords(service))
            case let .edit(from, to):
                return ResourceChange(.change, to.key.resourceID.description, IPVSReconciler.settingsDifferences(from, to),
                                      note: from.scheduler != to.scheduler ? "new connections bridged through a temporary service meanwhile" : nil)
            case let .delete(service):
                return ResourceChange(.remove, service.key.resourceID.description, IPVSReconciler.settingsWords(service))
            case let .addDestination(key, destination):
                return ResourceChange(.add, IPVSReconciler.name(key, destination), IPVSReconciler.destinationWords(destination))
            case let .editDestination(key, from, to):
                return ResourceChange(.change, IPVSReconciler.name(key, to), IPVSReconciler.destinationDifferences(from, to))
            case let .drainDestination(key, destination):
                return ResourceChange(.remove, IPVSReconciler.name(key, destination),
                                      [Difference("weight", from: String(destination.weight), to: "0")], note: "drain, then delete")
            case let .deleteDestination(key, destination):
                return ResourceChange(.remove, IPVSReconciler.name(key, destination), [])
            }
        }
    }
}

extension IPVSService {
    /// The service with its destinations in the order that makes a new director's kernel list
    /// equal a peer's: `mh` fills its Maglev table in list order, and `-a` inserts at the head, so
    /// the destinations the peer holds are added in its reverse order first, then the new ones in
    /// the order every peer adds them too (each peer's `-a` puts them at its head alike).
    /// - peerOrder: the peer's destinations in its kernel's order.
    public func orderedForCreation(like peerOrder: [Endpoint]) -> IPVSService {
        let rank = Dictionary(peerOrder.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let held = destinations.filter { rank[$0.endpoint] != nil }.sorted { rank[$0.endpoint]! > rank[$1.endpoint]! }
        var ordered = self
        ordered.destinations = held + destinations.filter { rank[$0.endpoint] == nil }
        return ordered
    }
}

/// Desired against live IPVS services: the changes, in the order they are safe to make.
public enum IPVSReconciler {
    /// From `live` (nil: the director has no such service) to `desired`. New destinations are
    /// added before leaving ones are drained, so capacity never drops during the change.
    public static func changes(live: IPVSService?, desired: IPVSService) -> [IPVSService.Change] {
        guard let live else { return [.create(desired)] }
        var changes: [IPVSService.Change] = []
        if live.settings != desired.settings { changes.append(.edit(from: live, to: desired)) }
        for destination in desired.destinations where live.destination(destination.endpoint) == nil {
            changes.append(.addDestination(desired.key, destination))
        }
        for destination in desired.destinations {
            if let current = live.destination(destination.endpoint), current != destination {
                changes.append(.editDestination(desired.key, from: current, to: destination))
            }
        }
        for destination in live.destinations where desired.destination(destination.endpoint) == nil {
            changes.append(.drainDestination(desired.key, destination))
        }
        return changes
    }

    /// `ipvs tcp 192.168.0.200:80 → 10.0.0.11:80`
    public static func name(_ key: IPVSServiceKey, _ destination: IPVSDestination) -> String {
        "\(key.resourceID) → \(destination.endpoint)"
    }

    static func settingsWords(_ service: IPVSService) -> [Difference] {
        var words = [Difference("scheduler", to: service.scheduler)]
        if let timeout = service.persistence { words.append(Difference("persistence", to: "\(timeout) s")) }
        if let netmask = service.netmask { words.append(Difference("netmask", to: netmask)) }
        if let flags = service.schedulerFlags { words.append(Difference("flags", to: flags)) }
        return words
    }

    static func settingsDifferences(_ from: IPVSService, _ to: IPVSService) -> [Difference] {
        var words: [Difference] = []
        if from.scheduler != to.scheduler { words.append(Difference("scheduler", from: from.scheduler, to: to.scheduler)) }
        if from.persistence != to.persistence {
            words.append(Difference("persistence", from: from.persistence.map { "\($0) s" } ?? "off", to: to.persistence.map { "\($0) s" } ?? "off"))
        }
        if from.netmask != to.netmask { words.append(Difference("netmask", from: from.netmask ?? "one address", to: to.netmask ?? "one address")) }
        if from.schedulerFlags != to.schedulerFlags {
            words.append(Difference("flags", from: from.schedulerFlags ?? "none", to: to.schedulerFlags ?? "none"))
        }
        return words
    }

    static func destinationWords(_ destination: IPVSDestination) -> [Difference] {
        var words = [Difference("", to: destination.method.rawValue), Difference("weight", to: String(destination.weight))]
        if destination.upper > 0 || destination.lower > 0 {
            words.append(Difference("thresholds", to: "\(destination.lower)-\(destination.upper)"))
        }
        return words
    }

    static func destinationDifferences(_ from: IPVSDestination, _ to: IPVSDestination) -> [Difference] {
        var words: [Difference] = []
        if from.method != to.method { words.append(Difference("forwarding", from: from.method.rawValue, to: to.method.rawValue)) }
        if from.weight != to.weight { words.append(Difference("weight", from: String(from.weight), to: String(to.weight))) }
        if from.upper != to.upper || from.lower != to.lower {
            words.append(Difference("thresholds", from: "\(from.lower)-\(from.upper)", to: "\(to.lower)-\(to.upper)"))
        }
        return words
    }
}
