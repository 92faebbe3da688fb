import ArgumentParser
import Foundation
import LVSKit
import LVSRunner

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The live IPVS table with its counters beside the desired one, and any drift.",
        discussion: """
        Per director, each service and real server with its weight, active and inactive \
        connections and traffic counters; with keepalived, each director's VRRP state (MASTER, \
        BACKUP, FAULT or stopped) and since when, each real server up or down by its health check, \
        and the sorry server in use or standing by; with active-active directors (bgp), the \
        counters of all directors added, whether their tables are the same, and each one's bird: \
        every session with a router and whether each VIP is announced. Drift is what `lvsctl up` would change now (a \
        plan): something changed a host since `up`, or the inventory changed. --json prints the \
        same as data. Exit 1 when there is drift.

        --watch keeps one SSH connection per director and refreshes every --interval seconds: \
        per service and real server the weight, active and inactive connections, new \
        connections and bytes per second, real servers drained or leaving, and with VRRP which \
        director holds the VIP. A director that goes away is shown as unreachable and tried \
        again at each refresh. On a terminal the view is redrawn in place and q quits; into a \
        pipe or a file each refresh follows the last (--count stops after that many).
        """)
    @OptionGroup var inventory: InventoryOption
    @OptionGroup var data: DataOption
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Refresh until q is pressed (see below); no drift, no exit status for it.") var watch = false
    @Option(help: "Seconds between refreshes with --watch.") var interval: Double = 1
    @Option(help: "With --watch: stop after this many refreshes.") var count: Int?

    func validate() throws {
        if watch && connection.json { throw ValidationError("--watch draws for people: use --json without --watch, as often as you like") }
        if !(0.2...3600).contains(interval) { throw ValidationError("--interval must be from 0.2 to 3600 seconds") }
        if let count, count < 1 { throw ValidationError("--count must be 1 or more") }
    }

    func run() async throws {
        let context = try ClusterContext(inventory, data, connection, verb: "status")
        if watch { return await StatusWatch(context: context, interval: interval, count: count).run() }
        let report = await context.runner.status(cluster: context.cluster, inventory: context.inventory)
        if connection.json { print(report.json) } else { print(report.text) }
        if report.drifted { throw ExitCode(1) }
    }
}

/// The loop of `status --watch`: read every director, draw, wait.
struct StatusWatch {
    let context: ClusterContext
    let interval: Double
    let count: Int?

    func run() async {
        let terminal = WatchTerminal()
        let watcher = StatusWatcher(access: context.runner.access, inventory: context.inventory, patience: .seconds(max(3, 2 * interval)))
        let desired = DesiredCluster(context.inventory).ipvsServices
        var history: [String: [WatchSample]] = [:]
        var refreshes = 0
        let clock = DateFormatter()
        clock.dateFormat = "HH:mm:ss"
        let period = ContinuousClock()
        while count.map({ refreshes < $0 }) ?? true {
            let began = period.now
            let samples = await watcher.sample()
            // Rates against a reading at least WatchFrame.shortestRatePeriod older (IPVS sums its
            // counters about every 2 s).
            var earlier: [String: WatchSample] = [:]
            for sample in samples {
                let older = history[sample.director] ?? []   // every one read before this sample
                earlier[sample.director] = WatchFrame.baseline(for: sample, among: older)
                if sample.table != nil { history[sample.director, default: []].append(sample) }
                history[sample.director] = Array((history[sample.director] ?? []).suffix(20))
            }
            let head = "lvsctl status --watch  \(context.inventory.file)  \(clock.string(from: Date()))  every \(interval) s"
                + (terminal.interactive ? "  (q quits)" : "")
            terminal.draw([head] + WatchFrame.lines(desired: desired, samples: samples, earlier: earlier))
            refreshes += 1
            // Every `interval` from the start of one reading to the next (readings take time too).
            if count.map({ refreshes < $0 }) ?? true { try? await Task.sleep(until: began + .seconds(interval), clock: period) }
        }
        await watcher.close()
        terminal.finish()
    }
}
