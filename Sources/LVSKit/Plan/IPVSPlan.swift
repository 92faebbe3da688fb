/// The director's IPVS part of a plan, as data: the steps `up` runs in order, the new real
/// servers it holds back, the services it leaves alone, and how many stay as they are. `plan`
/// prints it and `up` runs it; both make it here, from the same desired services, live table
/// and record.
public struct IPVSPlan: Sendable, Equatable {
    public struct Withheld: Sendable, Equatable {
        public var service: IPVSServiceKey
        public var destination: IPVSDestination
        /// The real server's host, whose own `up` failed.
        public var host: String
    }

    public let steps: [HostScript.IPVSStep]
    /// New real servers not added: their host is not ready (a host never gets traffic before it
    /// can answer it). One already in the table stays as it is.
    public let withheld: [Withheld]
    /// Live services lvsctl neither made nor wants (keepalived's own excepted).
    public let leftAlone: [IPVSService]
    /// Desired services that need no change.
    public let unchanged: Int

    /// - unready: the host behind a destination, when that host is not ready (nil: it is).
    /// - keepalived: the services keepalived makes (not listed as left alone).
    /// - keepalivedServices: those services as the inventory now wants them, and each one's sorry
    ///   server: a real server the live one holds and the inventory no longer names is drained
    ///   here (weight 0 until its connections end, then deleted) before keepalived's reload,
    ///   which would remove it at once.
    /// - peerOrder: for a service this director lacks, its destinations in the kernel's order on
    ///   an active-active peer that holds it (nil: none does): the new one is made to list them
    ///   alike, so both compute the same Maglev table.
    public init(desired: [IPVSService], live: IPVSTable, records: [HostOutput.Record],
                unready: (IPVSServiceKey, IPVSDestination) -> String? = { _, _ in nil },
                peerOrder: (IPVSServiceKey) -> [Endpoint]? = { _ in nil },
                keepalived: (IPVSServiceKey) -> Bool = { _ in false },
                keepalivedServices: [(service: IPVSService, sorry: Endpoint?)] = []) {
        var withheld: [Withheld] = []
        let ready = desired.map { service -> IPVSService in
            let current = live.service(service.key)
            var service = current != nil ? service : peerOrder(service.key).map(service.orderedForCreation) ?? service
            let present = Set(current?.destinations.map(\.endpoint) ?? [])
            service.destinations.removeAll { destination in
                guard !present.contains(destination.endpoint), let host = unready(service.key, destination) else { return false }
                withheld.append(Withheld(service: service.key, destination: destination, host: host))
                return true
            }
            return service
        }
        var (steps, leftAlone) = HostDiff.ipvs(desired: ready, live: live, records: records)
        for (service, sorry) in keepalivedServices {
            guard let current = live.service(service.key) else { continue }
            let wanted = Set(service.destinations.map(\.endpoint))
            for destination in current.destinations where !wanted.contains(destination.endpoint) && destination.endpoint != sorry {
                steps.append(HostScript.IPVSStep(change: .drainDestination(service.key, destination)))
            }
        }
        self.steps = steps
        self.withheld = withheld
        self.leftAlone = leftAlone.filter { !keepalived($0.key) }
        let changed = Set(steps.map(\.change.serviceKey))
        unchanged = desired.filter { !changed.contains($0.key) }.count
    }

    /// In plan's words, the changes first (a new service with each of its real servers).
    public var changes: [ResourceChange] { steps.flatMap(\.change.descriptions) }

    /// The withheld real servers, in plan's words, with why.
    public var withheldChanges: [(change: ResourceChange, reason: String)] {
        withheld.map { (IPVSService.Change.addDestination($0.service, $0.destination).description,
                        "\($0.host) is not ready (its up failed): no traffic sent to it") }
    }

    public var leftAloneChanges: [ResourceChange] { leftAlone.map(HostDiff.leftAlone) }
}

extension IPVSService.Change {
    /// The service a `.create` makes (nil: another change).
    public var createdService: IPVSService? {
        guard case let .create(service) = self else { return nil }
        return service
    }

    /// The service the change is made to.
    public var serviceKey: IPVSServiceKey {
        switch self {
        case let .create(service), let .edit(_, service), let .delete(service): return service.key
        case let .addDestination(key, _), let .editDestination(key, _, _), let .drainDestination(key, _), let .deleteDestination(key, _):
            return key
        }
    }
}
