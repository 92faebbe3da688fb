import Foundation
import LVSKit

extension ClusterRun {
    /// `up`, in the order that keeps traffic flowing:
    /// 1. the director reads its record and live table (and takes the cluster's lock);
    /// 2. real servers get what they lack (a new server is ready before it gets traffic), and
    ///    report what they hold that is no longer wanted;
    /// 3. the director makes its own changes and edits IPVS in place (new real servers only if
    ///    they are ready), removes what it no longer needs;
    /// 4. real servers leaving a service are drained, then deleted;
    /// 5. only then do real servers give up what is no longer wanted (the old VIP), and hosts
    ///    that left the cluster are restored;
    /// 6. the director's record of the cluster forgets the hosts restored.
    func up() async -> [HostReport] {
        var directorWork: HostWork?
        if let state = director {
            var work = await HostWork.connect(state, access: access)
            await work.begin(UpScript.directorOpening(state, owner: runner.owner(verb), lockWait: runner.options.lockWait))
            if !work.usable {
                await work.close()
                return [await done(work)] + others.map { skipped($0, because: "director \(state.host.name) could not be used") }
            }
            directorWork = work
        }
        // The director holds the cluster's lock: the real servers go on while it applies its
        // own resources and reads its table.
        async let directorAnswered = Self.completing(directorWork) { _ in }
        let memberLines = members.map(\.line)
        let servers = await runner.forEach(others) { state in
            var work = await HostWork.open(state, access: access,
                                           first: UpScript.realServer(state, members: memberLines, owner: runner.owner(verb), lockWait: runner.options.lockWait))
            if work.report.reachable && work.report.lockedBy == nil {
                (work.report.unchanged, work.report.changes) = HostDiff.resources(state.resources, work.opening, planned: false)
            }
            if !work.usable || HostDiff.unwanted(work.opening.records, desired: state.resources.map(\.id)).isEmpty {
                await work.close()   // nothing to give up later: free the host now
            }
            return work
        }
        directorWork = await directorAnswered
        let gone = leaving(servers + (directorWork.map { [$0] } ?? []))
        if var work = directorWork {
            let unready = Set(servers.filter { $0.report.failed }.map(\.state.host.name))
            await reconcileDirector(&work, unready: unready, leaving: gone)
            directorWork = work
        }
        var reports = [HostReport]()
        let released = await runner.forEach(servers) { work in
            var work = work
            if work.usable { await giveUp(&work) }
            await work.close()
            return work
        }
        for work in released { reports.append(await done(work)) }
        let restored = await runner.forEach(gone) { state in
            var work = await HostWork.open(state, access: access, leaving: true,
                                           first: opening(.change) + HostScript.undo(keeping: [], forgetWhenEmpty: true))
            work.report.changes = HostDiff.undone(work.opening.undos, records: work.opening.records)
            await work.close()
            return work
        }
        for work in restored { reports.append(await done(work)) }
        if var work = directorWork {
            let stillLeaving = restored.filter(\.report.failed).map { ClusterMember($0.state.host).line }
            if !gone.isEmpty && work.usable { _ = await work.send(HostScript.writeCluster(memberLines + stillLeaving)) }
            await work.close()
            reports.insert(await done(work), at: 0)
        }
        return reports
    }

    /// A real server gives up what the inventory no longer asks of it (after the director stopped
    /// sending it that traffic).
    func giveUp(_ work: inout HostWork) async {
        let output = await work.send(HostScript.undo(keeping: work.state.resources.map(\.id.recordKey), forgetWhenEmpty: false))
        work.report.changes += HostDiff.undone(output.undos, records: work.opening.records)
    }

    /// The director's changes: its template resources, IPVS in place, its own removals, the
    /// cluster record; then drains.
    func reconcileDirector(_ work: inout HostWork, unready: Set<String>, leaving: [HostState]) async {
        let state = work.state
        let live = work.opening.ipvsTable ?? IPVSTable()
        // A real server that failed to get ready gets no traffic: its destination is not added
        // (one already there stays as it is).
        let ready = state.ipvsServices.map { service -> IPVSService in
            var service = service
            let present = Set(live.service(service.key)?.destinations.map(\.key) ?? [])
            service.destinations.removeAll { !present.contains($0.key) && unready.contains(host(of: $0, in: service.key) ?? "") }
            return service
        }
        let (steps, leftAlone) = HostDiff.ipvs(desired: ready, live: live, records: work.opening.records)
        (work.report.unchanged, work.report.changes) = HostDiff.resources(state.resources, work.opening, planned: false)
        guard work.usable else { return }   // a resource of its own failed: no IPVS change
        // When something will wait for connections to end, its first count comes with this part.
        let draining = Self.drains(steps)
        let output = await work.send(UpScript.directorChanges(state, steps: steps, members: (members + leaving.map { ClusterMember($0.host) }).map(\.line))
                                     + (draining.isEmpty ? "" : HostScript.readConnections(Self.services(draining))))
        var ipvsOutcomes = steps.enumerated().flatMap { index, step -> [ChangeOutcome] in
            let result = output.ipvsSteps[index]
            let status: ChangeStatus = result == nil ? .notRun : result!.status == .done ? .done : .failed
            return step.change.descriptions.map {
                ChangeOutcome(change: $0, status: status, milliseconds: result?.milliseconds ?? 0,
                              output: result.flatMap { $0.output.isEmpty ? nil : $0.output.joined(separator: "\n") },
                              command: status == .failed ? step.change.commands.map(IPVSAdm.shell).joined(separator: "\n") : nil)
            }
        }
        for service in state.ipvsServices {
            for destination in service.destinations where !ready.contains(where: { $0.key == service.key && $0.destination(destination.key) != nil }) {
                ipvsOutcomes.append(ChangeOutcome(change: IPVSService.Change.addDestination(service.key, destination).description, status: .notRun,
                                                  output: "\(host(of: destination, in: service.key) ?? "its host") is not ready (its up failed): no traffic sent to it"))
            }
        }
        ipvsOutcomes += leftAlone.filter { !madeByKeepalived($0) }.map { ChangeOutcome(change: HostDiff.leftAlone($0), status: .done) }
        let changed = Set(steps.map { Self.serviceKey($0.change) })
        work.report.unchanged += state.ipvsServices.filter { !changed.contains($0.key) }.count
        let allDone = steps.indices.allSatisfy { output.ipvsSteps[$0]?.status == .done }
        if allDone { await drain(&work, draining, first: output, outcomes: &ipvsOutcomes) }
        work.report.changes += ipvsOutcomes
        work.report.changes += HostDiff.undone(output.undos.filter { !$0.id.hasPrefix("ipvs ") }, records: work.opening.records)
    }

    /// The real server behind a destination, from the inventory's services.
    func host(of destination: IPVSDestination, in key: IPVSServiceKey) -> String? {
        desired.service(key)?.spec
            .realServers.first { $0.rip.withPort($0.port) == destination.key }?.host
    }

    /// What waits for connections to end after the director's changes: a real server leaving a
    /// service (weight 0 since part 2; deleted once it has no connections, active or not), or a
    /// scheduler bridge (deleted once no connection it took is still established).
    enum Draining {
        case destination(IPVSServiceKey, IPVSDestination)
        case bridge(SchedulerBridge)

        var service: IPVSServiceKey {
            switch self {
            case let .destination(key, _): return key
            case let .bridge(bridge): return bridge.service.key
            }
        }

        /// Connections still holding it, or nil once there are none.
        func remaining(_ table: IPVSTable) -> IPVSConnectionCounts? {
            switch self {
            case let .destination(key, destination):
                guard let counts = table.connections[key]?[destination.key], counts.total > 0 else { return nil }
                return counts
            case let .bridge(bridge):
                let active = table.connections[bridge.service.key]?.values.map(\.active).reduce(0, +) ?? 0
                return active > 0 ? IPVSConnectionCounts(active: active, inactive: 0) : nil
            }
        }
    }

    /// Waits, counting connections every `drainPoll`, until each drain has none left or the drain
    /// timeout passed; then deletes them all in one part. Says which happened, per real server.
    static func drains(_ steps: [HostScript.IPVSStep]) -> [Draining] {
        steps.compactMap { step -> Draining? in
            if case let .drainDestination(key, destination) = step.change { return .destination(key, destination) }
            return step.change.bridge.map(Draining.bridge)
        }
    }

    static func services(_ draining: [Draining]) -> [IPVSServiceKey] {
        Array(Set(draining.map(\.service))).sorted { $0.description < $1.description }
    }

    /// `first`: the part that made the changes, which ends with the first count.
    func drain(_ work: inout HostWork, _ draining: [Draining], first: HostOutput, outcomes: inout [ChangeOutcome]) async {
        guard !draining.isEmpty else { return }
        let clock = ContinuousClock()
        let started = clock.now
        var pending = Array(draining.indices)
        var verdicts: [Int: String] = [:]
        var output = first
        while !pending.isEmpty && work.usable {
            if output.ipvs["thresholds"] == nil {
                try? await Task.sleep(for: runner.options.drainPoll)
                output = await work.send(HostScript.readConnections(Self.services(pending.map { draining[$0] })))
            }
            var table = IPVSTable()
            IPVSAdm.readListing(output.ipvs["thresholds"] ?? "", into: &table)
            let elapsed = clock.now - started
            pending.removeAll { index in
                guard let counts = draining[index].remaining(table) else {
                    verdicts[index] = "drained: no connections left after \(Self.format(elapsed)); deleted"
                    return true
                }
                guard elapsed < runner.options.drainTimeout else {
                    verdicts[index] = "drain timed out after \(Self.format(elapsed)) with \(counts.active) active and \(counts.inactive) inactive connections; deleted"
                    return true
                }
                return false
            }
            output = HostOutput()
        }
        var deletions: [HostScript.IPVSStep] = []
        var bridges: [SchedulerBridge] = []
        for item in draining {
            switch item {
            case let .destination(key, destination): deletions.append(HostScript.IPVSStep(change: .deleteDestination(key, destination)))
            case let .bridge(bridge): bridges.append(bridge)
            }
        }
        let removed = await work.send(HostScript.ipvs(deletions) + HostScript.removeBridges(bridges))
        var deleted = 0
        for (index, item) in draining.enumerated() {
            guard case let .destination(key, destination) = item else { continue }
            defer { deleted += 1 }
            let name = IPVSReconciler.name(key, destination)
            guard let at = outcomes.firstIndex(where: { $0.change.resource == name && $0.change.action == .remove }) else { continue }
            if removed.ipvsSteps[deleted]?.status == .done {
                outcomes[at].change.note = verdicts[index]
            } else {
                outcomes[at].status = .failed
                outcomes[at].output = (removed.ipvsSteps[deleted]?.output ?? ["the director stopped before deleting it"]).joined(separator: "\n")
            }
        }
    }

    static func format(_ duration: Duration) -> String { String(format: "%.1f s", duration.seconds) }
}
