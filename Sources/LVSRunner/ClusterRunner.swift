import Foundation
import LVSKit
import SSHTransport

/// The verbs that converse with hosts.
public enum Verb: String, Sendable {
    case plan, up, down
}

/// How a run behaves beyond which hosts it reaches.
public struct RunOptions: Sendable {
    /// How long a leaving real server may keep connections before it is deleted anyway.
    public var drainTimeout: Duration = .seconds(30)
    /// How often its connections are counted meanwhile.
    public var drainPoll: Duration = .seconds(1)
    /// Seconds to wait for a host another lvsctl run holds (0: refuse at once).
    public var lockWait = 0
    /// plan: read the director's traffic counters too, and each active-active director's bird
    /// (for `status`: in the same conversation, no second connection).
    public var readStats = false
    /// Told when the run waits for something other than a host's script (a progress line).
    public var onWait: @Sendable (String) -> Void = { _ in }

    public init() {}
}

/// Runs one verb on a cluster, director first: its shell takes the director's lock, which keeps
/// a second run of the same cluster out for the whole run, and stays open while the real servers
/// (in parallel, at most `forks` at once) do their part. A host that fails never stops the others.
public struct ClusterRunner: Sendable {
    public let access: HostAccess
    public let forks: Int
    public let options: RunOptions
    /// The playbooks the hosts' states were rendered from: active-active directors whose
    /// keepalived makes the table get their keepalived.conf rendered again once their tables
    /// are read (nil: they keep the inventory's order).
    public let library: PlaybookLibrary?
    /// Called as each host finishes a phase (for progress lines).
    public let onHostDone: @Sendable (HostReport, _ done: Int, _ total: Int) -> Void

    public init(access: HostAccess, forks: Int = 20, options: RunOptions = RunOptions(), library: PlaybookLibrary? = nil,
                onHostDone: @escaping @Sendable (HostReport, Int, Int) -> Void = { _, _, _ in }) {
        self.access = access
        self.forks = max(1, forks)
        self.options = options
        self.library = library
        self.onHostDone = onHostDone
    }

    /// `cluster` is every host the inventory gives a role; `only` limits the run to some of them
    /// (`--limit`), hosts that left the cluster included.
    public func run(_ verb: Verb, cluster: [HostState], only: Set<String>? = nil, inventory: Inventory) async -> Recap {
        let clock = ContinuousClock()
        let started = clock.now
        let run = ClusterRun(runner: self, verb: verb, cluster: cluster, only: only, desired: DesiredCluster(inventory))
        let reports: [HostReport]
        switch verb {
        case .plan: reports = await run.plan().reports
        case .up: reports = await run.up()
        case .down: reports = await run.down()
        }
        var recap = Recap(verb: verb.rawValue, inventory: inventory.file, hosts: reports, seconds: 0)
        // A pair whose every host did its part: up ends when a director holds the VIP.
        let directors = Set(inventory.directors.map(\.host))
        if verb == .up, let vrrp = inventory.vrrp, only.map(directors.isSubset) ?? true, recap.exitCode == 0 {
            options.onWait("... waiting for VRRP to elect the master (at most \(Int(vrrp.electionBound.rounded(.up))) s)")
            recap.vip = await access.awaitVIPHolder(inventory)
        }
        await access.jumpPool.closeAll()
        recap.seconds = (clock.now - started).seconds
        return recap
    }

    /// `status`: the director's live table with its counters, and the drift (a plan).
    public func status(cluster: [HostState], inventory: Inventory) async -> StatusReport {
        let clock = ContinuousClock()
        let started = clock.now
        var options = self.options
        options.readStats = true
        let runner = ClusterRunner(access: access, forks: forks, options: options, library: library, onHostDone: onHostDone)
        let desired = DesiredCluster(inventory)
        let (reports, tables, birds) = await ClusterRun(runner: runner, verb: .plan, cluster: cluster, only: nil, desired: desired).plan()
        var live = tables.first?.table
        var keepalived: [KeepalivedState] = []
        var tableHost = inventory.director.host
        var bird: [BirdState] = [], sameOnEveryDirector: [Verdict] = []
        if inventory.isActiveActive {
            // Each director counts the connections the routers sent it.
            live = IPVSTable.summingCounters(tables.map(\.table))
            tableHost = tables.map(\.director).joined(separator: ", ")
            sameOnEveryDirector = tables.count > 1 ? TableJudge.sameOnEveryDirector(tables) : []
            // What each director's bird said in its plan conversation; one that never answered
            // (unreachable, locked) says so.
            bird = inventory.directors.map { director in
                birds[director.host].map { BirdState.parse($0, host: director.host) }
                    ?? BirdState(host: director.host, error: "not read: \(reports.first { $0.host == director.host }?.error ?? "no answer")")
            }
        } else if inventory.usesKeepalived {
            // keepalived's table that counts is the one on the director holding the VIP.
            let (active, states) = await access.activeDirector(inventory)
            keepalived = states.isEmpty ? await access.keepalivedStates(inventory) : states
            if let active, active.name != inventory.director.host {
                tableHost = active.name
                live = try? await Verifier(access: access).readTable(on: active, stats: true)
            }
        }
        await access.jumpPool.closeAll()
        var report = StatusReport(desired: desired.ipvsServices, live: live,
                                  drift: Recap(verb: "plan", inventory: inventory.file, hosts: reports, seconds: (clock.now - started).seconds))
        report.tableHost = tableHost
        report.keepalived = keepalived
        report.activeActive = inventory.isActiveActive
            ? ActiveActiveStatus(sameOnEveryDirector: sameOnEveryDirector, bird: bird, meanings: BirdConfig.protocolMeanings(desired)) : nil
        report.services = inventory.services
        return report
    }

    /// Runs `body` for every item, `forks` at a time; results in the items' order.
    func forEach<Item: Sendable, Result: Sendable>(_ items: [Item], _ body: @escaping @Sendable (Item) async -> Result) async -> [Result] {
        await withTaskGroup(of: (Int, Result).self) { group in
            var next = 0
            var results = [Result?](repeating: nil, count: items.count)
            func launch() {
                guard next < items.count else { return }
                let index = next, item = items[index]
                next += 1
                group.addTask { (index, await body(item)) }
            }
            for _ in 0..<min(forks, items.count) { launch() }
            while let (index, result) = await group.next() {
                results[index] = result
                launch()
            }
            return results.compactMap { $0 }
        }
    }

    /// Who holds a host's lock, for a run that finds it taken.
    func owner(_ verb: Verb) -> String {
        let formatter = ISO8601DateFormatter()
        let user = ProcessInfo.processInfo.environment["USER"] ?? "root"
        return "\(verb.rawValue) started \(formatter.string(from: Date())) by \(user)@\(ProcessInfo.processInfo.hostName), pid \(getpid())"
    }
}

/// A host's conversation and its report, as a verb goes along.
struct HostWork: Sendable {
    var report: HostReport
    var session: HostSession?
    /// What the host answered to the first part.
    var opening = HostOutput()
    /// What the host should have (an active-active director's is rendered again once the
    /// directors' tables are read: `ClusterRun.inKernelOrder`).
    var state: HostState
    let started = ContinuousClock.now

    /// The host can go on: connected, not locked out, its shell still running.
    var usable: Bool { session != nil && report.error == nil && report.lockedBy == nil }

    init(state: HostState, leaving: Bool = false) {
        self.state = state
        report = HostReport(host: state.host.name, address: state.host.address, reachable: false)
        report.leaving = leaving
    }

    /// Connects and sends the first part, and reads all of its answer.
    static func open(_ state: HostState, access: HostAccess, leaving: Bool = false, first body: String) async -> HostWork {
        var work = await connect(state, access: access, leaving: leaving)
        await work.open(body)
        return work
    }

    /// Sends the first part on a connection made already, and reads all of its answer.
    mutating func open(_ first: String) async {
        await begin(first)
        await complete()
    }

    static func connect(_ state: HostState, access: HostAccess, leaving: Bool = false) async -> HostWork {
        var work = HostWork(state: state, leaving: leaving)
        do {
            let session = try await HostSession.connect(state.host, access: access)
            work.report.route = access.path(to: state.host)
            work.report.reachable = true
            work.report.address = session.address
            work.session = session
        } catch let HostSession.Failure.unreachable(reason) {
            work.report.error = reason
        } catch {
            work.report.error = "\(error)"
        }
        return work
    }

    /// Sends the first part and reads its answer up to the point where the host's lock is held
    /// (other hosts may start then); `complete` reads the rest.
    mutating func begin(_ body: String) async {
        guard usable, let session else { return }
        do {
            let output = try await session.send(body, pausingAt: HostScript.held)
            opening.read(output)
            absorb(output)
        } catch {
            fail(error)
        }
    }

    mutating func complete() async {
        guard usable, let session else { return }
        do {
            let output = try await session.resume()
            opening.read(output)
            absorb(output)
        } catch {
            fail(error)
        }
    }

    mutating func fail(_ error: Error) {
        if case let HostSession.Failure.failed(reason) = error { report.error = reason } else { report.error = "\(error)" }
    }

    /// Sends a later part (nothing once the host stopped).
    mutating func send(_ body: String) async -> HostOutput {
        guard usable, let session else { return HostOutput() }
        do {
            let output = try await session.send(body)
            absorb(output)
            return output
        } catch {
            fail(error)
        }
        return HostOutput()
    }

    mutating func absorb(_ output: HostOutput) {
        if let owner = output.locked { report.lockedBy = owner }
        if let wait = output.waited {
            report.waitedFor = "waited " + String(format: "%.1f", Double(wait.milliseconds) / 1000)
                + " s for the shell of a run whose lvsctl is gone (\(wait.owner)) to finish its part"
        }
        if let fatal = output.fatal { report.error = fatal }
    }

    /// Ends the conversation: releases the host's lock, notes round trips and time.
    mutating func close() async {
        guard let session else { return }
        self.session = nil
        // Why the shell could not run (sudo wanting a password) says more than how feeding it failed.
        if let problem = await session.close() { report.error = problem }
        report.roundTrips = await session.roundTrips
        report.handshakes = await session.handshakes
        report.seconds = (ContinuousClock.now - started).seconds
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
