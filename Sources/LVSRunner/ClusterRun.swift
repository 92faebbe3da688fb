import Foundation
import LVSKit
import SSHTransport

/// One verb's run over a cluster: which hosts, in which order, and what each is sent.
struct ClusterRun: Sendable {
    let runner: ClusterRunner
    let verb: Verb
    /// Every host the inventory gives a role.
    let cluster: [HostState]
    let only: Set<String>?
    /// What the inventory asks, derived once for the run.
    let desired: DesiredCluster
    /// A host that left the cluster but is still defined is reached as the inventory now says.
    var inventory: Inventory { desired.inventory }
    let progress = Progress()

    var access: HostAccess { runner.access }
    var selected: [HostState] { cluster.filter { only?.contains($0.host.name) ?? true } }
    /// The directors whose IPVS table lvsctl reconciles: the first one, or every one when they are
    /// active-active (each holds the whole table). The first takes the cluster's lock.
    var directors: [HostState] {
        let all = selected.filter { $0.roles.contains(.director) }
        return inventory.isActiveActive ? all : Array(all.prefix(1))
    }
    /// Every other host: the real servers, and the directors after the first of a keepalived
    /// pair (its backups, which hold no IPVS rules of lvsctl's).
    var others: [HostState] {
        let names = Set(directors.map(\.host.name))
        return selected.filter { !names.contains($0.host.name) }
    }
    var members: [ClusterMember] { cluster.map { ClusterMember($0.host) } }

    func opening(_ access: HostScript.Access, readIPVS: Bool = false) -> String {
        HostScript.opening(access, owner: runner.owner(verb), lockWait: runner.options.lockWait, readIPVS: readIPVS)
    }

    /// Hosts the cluster records name that the inventory no longer gives a role.
    func leaving(_ works: [HostWork]) -> [HostState] {
        let current = Set(cluster.map(\.host.name))
        var found: [HostState] = []
        for work in works {
            for line in work.opening.cluster {
                guard let member = ClusterMember(line: line), !current.contains(member.name),
                      only?.contains(member.name) ?? true, !found.contains(where: { $0.host.name == member.name }) else { continue }
                let host = inventory.host(named: member.name) ?? member.host(recordedOn: work.state.host.name)
                found.append(HostState(host: host, roles: [], resources: []))
            }
        }
        return found
    }

    /// Sends `first` to every host the others' records name that the inventory no longer gives
    /// a role, then `describe`s what it answered; their reports, each as it finishes.
    func visitLeaving(_ works: [HostWork], first body: String, _ describe: @escaping @Sendable (inout HostWork) -> Void) async -> [HostReport] {
        let gone = await runner.forEach(leaving(works)) { state in
            var work = await HostWork.open(state, access: access, leaving: true, first: body)
            describe(&work)
            await work.close()
            return work
        }
        var reports: [HostReport] = []
        for work in gone { reports.append(await done(work)) }
        return reports
    }

    /// A host not contacted because the run stopped before it.
    func skipped(_ state: HostState, because reason: String) -> HostReport {
        var report = HostReport(host: state.host.name, address: state.host.address, reachable: true)
        report.error = "not contacted: \(reason)"
        return report
    }

    func done(_ work: HostWork) async -> HostReport {
        var report = work.report
        report.tally()
        let (count, total) = await progress.finished(totalAtLeast: selected.count)
        runner.onHostDone(report, count, total)
        return report
    }

    // MARK: - plan

    /// Connects to each director in order and sends it `first`: the first one's lock keeps a
    /// second run of the cluster out. When one cannot be used, the run stops there: every
    /// director's report and the other hosts as not contacted.
    func openDirectors(_ first: (HostState) -> String) async -> Result<[HostWork], Stopped> {
        var works: [HostWork] = []
        for state in directors {
            var work = await HostWork.connect(state, access: access)
            await work.begin(first(state))
            works.append(work)
            if !work.usable {
                let reports = await finish(works)
                let untouched = directors.dropFirst(works.count) + others
                return .failure(Stopped(reports: reports + untouched.map { skipped($0, because: "director \(state.host.name) could not be used") }))
            }
        }
        return .success(works)
    }

    /// A run stopped before the real servers, with what each host reports.
    struct Stopped: Error { let reports: [HostReport] }

    /// The directors' last part (`last`, to each one still usable), then their reports: the
    /// first one's lock is released with its connection.
    func finish(_ works: [HostWork], last: String? = nil) async -> [HostReport] {
        var reports: [HostReport] = []
        for var work in works {
            if let last, work.usable { _ = await work.send(last) }
            await work.close()
            reports.append(await done(work))
        }
        return reports
    }

    /// Reads the rest of each director's first answer, then `then` (for `async let`: the
    /// directors answer while the others are worked on).
    static func completing(_ works: [HostWork], then: @Sendable (inout HostWork) -> Void) async -> [HostWork] {
        var completed: [HostWork] = []
        for work in works { if let work = await completing(work, then: then) { completed.append(work) } }
        return completed
    }

    /// plan: every host's diff; each director's live table too, in order, and (for `status` of
    /// active-active directors) what each one's bird says.
    func plan() async -> (reports: [HostReport], live: [(director: String, table: IPVSTable)], bird: [String: String]) {
        let readBird = runner.options.readStats && desired.inventory.isActiveActive
        let read = HostScript.opening(.read, owner: runner.owner(verb), lockWait: runner.options.lockWait, readIPVS: false)
            + HostScript.readIPVSTable(stats: runner.options.readStats) + (readBird ? HostScript.readBird : "")
        var directorWorks: [HostWork]
        switch await openDirectors({ read + HostScript.check($0.resources) }) {
        case let .success(works): directorWorks = works
        case let .failure(stopped): return (stopped.reports, [], [:])
        }
        // The directors hold their locks: the others go on while they answer the rest.
        async let directorsAnswered = Self.completing(directorWorks) { _ in }
        let servers = await runner.forEach(others) { state in
            var work = await HostWork.open(state, access: access, first: opening(.read) + HostScript.check(state.resources))
            if work.usable { describePlan(&work) }
            await work.close()
            return work
        }
        directorWorks = await inKernelOrder(directorsAnswered, recheck: true)
        let peers = directorWorks
        directorWorks = directorWorks.map { work in
            var work = work
            if work.usable { describePlan(&work, peers: peers) }
            return work
        }
        var reports = [HostReport]()
        for work in servers { reports.append(await done(work)) }
        reports += await visitLeaving(servers + directorWorks, first: opening(.read)) {
            if $0.usable { describePlan(&$0) }
        }
        let birds = directorWorks.reduce(into: [String: String]()) { birds, work in birds[work.state.host.name] = work.opening.ipvs["bird"] }
        return (await finish(directorWorks) + reports, directorWorks.compactMap { work in work.opening.ipvsTable.map { (work.state.host.name, $0) } }, birds)
    }

    /// plan's lines for a host: its template resources, its IPVS services (director), and what
    /// it has recorded that is no longer wanted.
    func describePlan(_ work: inout HostWork, peers: [HostWork] = []) {
        let (unchanged, changes) = HostDiff.resources(work.state.resources, work.opening, planned: true)
        work.report.unchanged = unchanged
        work.report.changes = changes
        let isDirector = work.state.roles.contains(.director)
        if isDirector {
            let ipvs = ipvsPlan(work, peers: peers)
            work.report.changes += (ipvs.changes + ipvs.leftAloneChanges).map { ChangeOutcome(change: $0, status: .planned) }
            work.report.unchanged += ipvs.unchanged
        }
        let removals = HostDiff.unwanted(work.opening.records, desired: work.state.resources.map(\.id))
            .filter { !isDirector || $0.ipvsService == nil }
        work.report.changes += removals.map { ChangeOutcome(change: HostDiff.removal($0), status: .planned) }
    }

    /// Reads the rest of a first part's answer, then `then` (for `async let`: the director
    /// answers while the others are worked on).
    static func completing(_ work: HostWork?, then: @Sendable (inout HostWork) -> Void) async -> HostWork? {
        guard var work else { return nil }
        await work.complete()
        if work.usable { then(&work) }
        return work
    }

    /// The director's IPVS plan from what it answered: the same for `plan` and `up`.
    /// - unready: real-server hosts whose `up` failed (their new destinations are held back).
    /// - peers: every director's first answer (active-active: a service one of them lacks is
    ///   made in the order another already lists it).
    func ipvsPlan(_ work: HostWork, unready: Set<String> = [], peers: [HostWork] = []) -> IPVSPlan {
        let tables = peers.compactMap(\.opening.ipvsTable)
        return IPVSPlan(desired: work.state.ipvsServices, live: work.opening.ipvsTable ?? IPVSTable(), records: work.opening.records,
                 unready: { key, destination in host(of: destination, in: key).flatMap { unready.contains($0) ? $0 : nil } },
                 peerOrder: tables.kernelOrder,
                 // A service keepalived makes from this inventory: its own, neither lvsctl's nor a stranger's.
                 keepalived: { inventory.usesKeepalived && desired.service($0) != nil },
                 keepalivedServices: inventory.usesKeepalived && !work.state.keepalived.isEmpty
                     ? desired.services.map { ($0.ipvs, $0.spec.sorryServer?.endpoint) } : [])
    }

    /// The real server behind a destination, from the inventory's services.
    func host(of destination: IPVSDestination, in key: IPVSServiceKey) -> String? {
        desired.service(key)?.spec.realServers.first { $0.endpoint == destination.endpoint }?.host
    }

    // MARK: - down

    /// The directors first (the first one's lock keeps a concurrent `up` out while the rest is
    /// undone), then the real servers in parallel, then any host that had already left the cluster.
    func down() async -> [HostReport] {
        var directorWorks: [HostWork]
        switch await openDirectors({ _ in opening(.change, readIPVS: true) }) {
        case let .success(works): directorWorks = works
        case let .failure(stopped): return stopped.reports
        }
        // The directors hold their locks: their IPVS services go in one batch each (they needed
        // their records and table for that), their other records after them, while the others go on.
        async let directorsAnswered: [HostWork] = runner.forEach(directorWorks) { work in
            var work = work
            await work.complete()
            guard work.usable else { return work }
            let output = await work.send(HostScript.undoAnnouncementsFirst
                                         + HostScript.undoIPVS(records: work.opening.records, live: work.opening.ipvsTable ?? IPVSTable())
                                         + HostScript.undoAll(forgetWhenEmpty: false))
            work.report.changes = HostDiff.undone(output.undos, records: work.opening.records)
            return work
        }
        let undoAll = opening(.change) + HostScript.undoAnnouncementsFirst + HostScript.undoAll(forgetWhenEmpty: true)
        let servers = await runner.forEach(others) { state in
            var work = await HostWork.open(state, access: access, first: undoAll)
            work.report.changes = HostDiff.undone(work.opening.undos, records: work.opening.records)
            await work.close()
            return work
        }
        directorWorks = await directorsAnswered
        var reports = [HostReport]()
        for work in servers { reports.append(await done(work)) }
        reports += await visitLeaving(servers + directorWorks, first: undoAll) {
            $0.report.changes = HostDiff.undone($0.opening.undos, records: $0.opening.records)
        }
        return await finish(directorWorks, last: "lvsctl_forget") + reports
    }
}

/// Counts hosts as they finish, for progress lines.
actor Progress {
    private var count = 0
    func finished(totalAtLeast total: Int) -> (Int, Int) {
        count += 1
        return (count, max(total, count))
    }
}
