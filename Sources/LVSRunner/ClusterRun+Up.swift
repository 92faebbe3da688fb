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
        // Not a backup director: with preempt off, a pair's first election goes to the keepalived
        // that starts first, and the first director's opening must start its own before a backup
        // can (connected early, director2 overtook it in one CI run of the NAT pair's test).
        let early = EarlyConnections(others.filter { !$0.roles.contains(.director) }.prefix(runner.forks), access: access)
        var directorWorks: [HostWork]
        switch await openDirectors({ UpScript.directorOpening($0, owner: runner.owner(verb), lockWait: runner.options.lockWait) }) {
        case let .success(works): directorWorks = works
        case let .failure(stopped):
            await early.closeAll()
            return stopped.reports
        }
        // The directors hold their locks: the real servers go on while they apply their own
        // resources and read their tables.
        async let directorsAnswered = creatingServices(directorWorks)
        let memberLines = members.map(\.line)
        let servers = await runner.forEach(others) { state in
            var work = await early.connection(state, access: access)
            await work.open(UpScript.realServer(state, members: memberLines, owner: runner.owner(verb), lockWait: runner.options.lockWait))
            if work.report.reachable && work.report.lockedBy == nil {
                (work.report.unchanged, work.report.changes) = HostDiff.resources(state.resources, work.opening, planned: false)
            }
            if !work.usable || HostDiff.unwanted(work.opening.records, desired: state.resources.map(\.id)).isEmpty {
                await work.close()   // nothing to give up later: free the host now
            }
            return work
        }
        let (answered, created) = await directorsAnswered
        directorWorks = await inKernelOrder(answered)
        let gone = leaving(servers + directorWorks)
        let unready = Set(servers.filter { $0.report.failed }.map(\.state.host.name))
        // Active-active directors each reconcile the same table at once: drains wait side by side.
        let peers = directorWorks
        directorWorks = await runner.forEach(directorWorks) { work in
            var work = work
            await reconcileDirector(&work, unready: unready, leaving: gone, peers: peers, created: created[work.state.host.name] ?? Created())
            await awaitDrainedDirector(&work)
            return work
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
                                           first: opening(.change) + HostScript.undoAnnouncementsFirst + HostScript.undoAll(forgetWhenEmpty: true))
            work.report.changes = HostDiff.undone(work.opening.undos, records: work.opening.records)
            await work.close()
            return work
        }
        for work in restored { reports.append(await done(work)) }
        let stillLeaving = restored.filter(\.report.failed).map { ClusterMember($0.state.host).line }
        return await finish(directorWorks, last: gone.isEmpty ? nil : HostScript.writeCluster(memberLines + stillLeaving)) + reports
    }

    /// The services a director made (and recorded) while the real servers worked, and what it
    /// answered.
    struct Created: Sendable {
        var keys: Set<IPVSServiceKey> = []
        var output = HostOutput()
    }

    /// Each director once its table is read: the services this `up` creates are recorded and
    /// made at once, while the real servers do their part (`UpScript.creations`).
    func creatingServices(_ works: [HostWork]) async -> (works: [HostWork], created: [String: Created]) {
        var completed: [HostWork] = [], created: [String: Created] = [:]
        for var work in works {
            await work.complete()
            let creations = work.usable ? UpScript.creations(ipvsPlan(work).steps) : []
            if !creations.isEmpty {
                let output = await work.send(UpScript.directorCreations(creations))
                created[work.state.host.name] = Created(keys: Set(creations.map(\.change.serviceKey)), output: output)
            }
            completed.append(work)
        }
        return (completed, created)
    }

    /// A real server gives up what the inventory no longer asks of it (after the director stopped
    /// sending it that traffic).
    func giveUp(_ work: inout HostWork) async {
        let output = await work.send(HostScript.undo(HostDiff.unwanted(work.opening.records, desired: work.state.resources.map(\.id))))
        work.report.changes += HostDiff.undone(output.undos, records: work.opening.records)
    }

    /// The director's changes: its template resources, IPVS in place, its own removals, the
    /// cluster record; then drains; then what waited for them (keepalived, whose reload removes
    /// the real servers that left).
    /// - created: the services already made, and recorded (a failure to record them fails the batch).
    func reconcileDirector(_ work: inout HostWork, unready: Set<String>, leaving: [HostState], peers: [HostWork], created: Created) async {
        let state = work.state
        let plan = ipvsPlan(work, unready: unready, peers: peers)
        let steps = UpScript.steps(plan.steps, created: created.keys)
        defer { (work.report.unchanged, work.report.changes) = Self.withResources(work, state) }
        guard work.usable else { return }   // a resource of its own failed: no IPVS change
        // When something will wait for connections to end, its first count comes with this part;
        // else what waits for the drains comes with it too.
        let draining = GracefulTermination(steps, poll: runner.options.drainPoll, timeout: runner.options.drainTimeout)
        var output = created.output
        output.read(await work.send(UpScript.directorChanges(state, steps: steps, live: work.opening.ipvsTable ?? IPVSTable(),
                                                              unwanted: HostDiff.unwanted(work.opening.records, desired: state.resources.map(\.id)),
                                                              members: (members + leaving.map { ClusterMember($0.host) }).map(\.line))
                                     + (draining.items.isEmpty ? UpScript.directorAfterDrains(state) : HostScript.readConnections(draining.services))))
        work.opening.steps.merge(output.steps, uniquingKeysWith: Self.laterPart)
        let results = HostScript.ipvsResults(steps, output)
        var ipvsOutcomes = steps.enumerated().flatMap { index, step -> [ChangeOutcome] in
            let result = results[index]
            let status: ChangeStatus = result == nil ? .notRun : result!.status == .done ? .done : .failed
            return step.change.descriptions.map {
                ChangeOutcome(change: $0, status: status, milliseconds: result?.milliseconds ?? 0,
                              output: result.flatMap { $0.output.isEmpty ? nil : $0.output.joined(separator: "\n") },
                              command: status == .failed ? step.change.commands.map(IPVSAdm.shell).joined(separator: "\n") : nil)
            }
        }
        ipvsOutcomes += plan.withheldChanges.map { ChangeOutcome(change: $0.change, status: .notRun, output: $0.reason) }
        ipvsOutcomes += plan.leftAloneChanges.map { ChangeOutcome(change: $0, status: .done) }
        work.report.unchanged += plan.unchanged
        let allDone = results.allSatisfy { $0?.status == .done }
        if allDone && !draining.items.isEmpty {
            await drain(&work, draining, first: output, outcomes: &ipvsOutcomes)
            if !state.afterDrains.isEmpty {
                let after = await work.send(UpScript.directorAfterDrains(state))
                work.opening.steps.merge(after.steps, uniquingKeysWith: Self.laterPart)
            }
        }
        work.report.changes += ipvsOutcomes
        work.report.changes += HostDiff.undone(output.undos.filter { IPVSServiceKey(recordID: $0.id) == nil }, records: work.opening.records)
    }

    /// A step a later part ran again: what an earlier part changed stays the report (the later
    /// one only found it done).
    static func laterPart(_ earlier: HostOutput.Step, _ later: HostOutput.Step) -> HostOutput.Step {
        later.status == .ok ? earlier : later
    }

    /// The director's template resources (from every part that applied them) ahead of its
    /// other changes.
    static func withResources(_ work: HostWork, _ state: HostState) -> (unchanged: Int, changes: [ChangeOutcome]) {
        let (unchanged, changes) = HostDiff.resources(state.resources, work.opening, planned: false)
        return (unchanged + work.report.unchanged, changes + work.report.changes)
    }

    /// `first`: the part that made the changes, which ends with the first count.
    func drain(_ work: inout HostWork, _ drain: GracefulTermination, first: HostOutput, outcomes: inout [ChangeOutcome]) async {
        guard !drain.items.isEmpty else { return }
        let what = drain.items.map { item -> String in
            switch item {
            case let .destination(_, destination): return destination.endpoint.description
            case let .bridge(bridge): return "the bridge of \(bridge.service.key)"
            }
        }
        runner.options.onWait("... \(work.state.host.name): waiting for the connections of \(what.joined(separator: ", ")) to end "
                              + "(at most \(drain.timeout.components.seconds) s)")
        var director = DirectorIPVS(work: work)
        let (verdicts, deleted) = await drain.run(on: &director, first: first.ipvs["thresholds"].map { IPVSAdm.table(listing: $0) })
        work = director.work
        var deletion = 0
        for (index, item) in drain.items.enumerated() {
            guard case let .destination(key, destination) = item else { continue }
            defer { deletion += 1 }
            let name = IPVSReconciler.name(key, destination)
            guard let at = outcomes.firstIndex(where: { $0.change.resource == name && $0.change.action == .remove }) else { continue }
            if deleted[deletion]?.status == .done {
                outcomes[at].change.note = verdicts[index].description
            } else {
                outcomes[at].status = .failed
                outcomes[at].output = (deleted[deletion]?.output ?? ["the director stopped before deleting it"]).joined(separator: "\n")
            }
        }
    }

}
