import Foundation
import LVSKit
import LVSRunner

/// One forwarding mode start to finish, as `lvsctl lab demo` shows it and the end-to-end test
/// asserts it: every host's snapshot, `up`, `verify` through the VIP, a second `up`, `down`, the
/// snapshots compared, and the VIP silent afterwards.
public struct ModeResult: Sendable {
    public let mode: String
    public let up: Recap
    public let verify: VerifyReport
    public let again: Recap
    public let down: Recap
    /// Per host, what differs from before `up` (empty: every host as before).
    public let differences: [String: String]
    public let silentAfterDown: Bool
    /// With `metrics:`, what the director's node exporter, scraped from the client, says that
    /// its IPVS table or the inventory does not (empty: they agree), and how many IPVS samples
    /// it gave; nil without metrics.
    public let metrics: (disagreements: [String], samples: Int)?

    /// Changes the second `up` made (0 when `up` is idempotent).
    public var changedAgain: Int { again.hosts.map { $0.changes.count }.reduce(0, +) }

    public var passed: Bool {
        up.exitCode == 0 && verify.passed && again.exitCode == 0 && changedAgain == 0 && down.exitCode == 0
            && differences.isEmpty && silentAfterDown && metrics?.disagreements.isEmpty != false
    }
}

/// How long each phase took, in order.
public final class PhaseTimings: @unchecked Sendable {
    private let clock = ContinuousClock()
    private let started = ContinuousClock.now
    private var phases: [(String, Duration)] = []

    public init() {}

    public func time<T>(_ name: String, _ body: () async throws -> T) async rethrows -> T {
        let t0 = clock.now
        let result = try await body()
        phases.append((name, clock.now - t0))
        return result
    }

    public func table(format: (Duration) -> String) -> String {
        (phases + [("total", clock.now - started)])
            .map { "    \($0.0.padding(toLength: 16, withPad: " ", startingAt: 0)) \(format($0.1))" }
            .joined(separator: "\n")
    }
}

public enum LabScenario {
    /// The VIP every lab inventory uses.
    public static let vip = "192.168.0.200"

    public static func mode(_ cluster: LabCluster, timings: PhaseTimings = PhaseTimings(), log: (String) -> Void = { _ in }) async throws -> ModeResult {
        let lab = cluster.lab
        let name = cluster.inventory.mode.rawValue.uppercased()
        let before = try await lab.snapshots(of: cluster.hostNames)
        log("==> \(name): lvsctl up -i \(cluster.inventory.file)")
        let up = await timings.time("\(name) up") { await cluster.run(.up) }
        log(summary(up))
        log("==> \(name): 12 requests from the client to http://\(vip)/")
        let verify = await timings.time("\(name) verify") { await cluster.verify() }
        for (index, host) in (verify.services.first?.sequence ?? []).enumerated() { log("    \(index + 1). \(cluster.inventory.page(for: host))") }
        for verdict in verify.services.flatMap(\.verdicts) + verify.table { log(verdict.line) }
        // IPVS sums its counters about every 2 s.
        let stats = try? await lab.run("director", "sleep 2.5; \(IPVSAdm.readStats)")
        if let stats { log("==> \(name): \(IPVSAdm.readStats) on the director\n" + stats.trimmingCharacters(in: .newlines)) }
        var metrics: (disagreements: [String], samples: Int)?
        if let port = cluster.inventory.options.metrics?.port {
            metrics = try await timings.time("\(name) metrics") { try await scrape(cluster, port: port, log: log) }
        }
        let again = await timings.time("\(name) up again") { await cluster.run(.up) }
        log("==> \(name): second up: \(again.hosts.map { $0.changes.count }.reduce(0, +)) changed")
        let down = await timings.time("\(name) down") { await cluster.run(.down) }
        let differences = try await lab.differences(from: before)
        log("==> \(name): down: \(down.hosts.map { $0.changes.count }.reduce(0, +)) changes undone; "
            + (differences.isEmpty ? "every host equals its snapshot from before up" : "DIFFERS from before up: \(differences.keys.sorted().joined(separator: ", "))"))
        for (host, difference) in differences.sorted(by: { $0.key < $1.key }) { log("    \(host):\n" + difference) }
        let silent = try await lab.run("client", "curl -s -m 3 http://\(vip)/ || echo NO-ANSWER") == "NO-ANSWER\n"
        return ModeResult(mode: cluster.inventory.mode.rawValue, up: up, verify: verify, again: again, down: down,
                          differences: differences, silentAfterDown: silent, metrics: metrics)
    }

    /// The director's node exporter scraped from the client, as a Prometheus server would, and
    /// held against the director's table read right after.
    static func scrape(_ cluster: LabCluster, port: Int, log: (String) -> Void) async throws -> (disagreements: [String], samples: Int) {
        let lab = cluster.lab
        let url = "http://\(lab.address(of: "director")):\(port)/metrics"
        log("==> \(cluster.inventory.mode.rawValue.uppercased()): curl \(url) from the client")
        let scrape = MetricsScrape(text: try await lab.run("client", "curl -sS -m 5 \(url)"))
        let parts = try await lab.run("director", [IPVSAdm.readSave, IPVSAdm.readThresholds, IPVSAdm.readStats, "cat /proc/net/ip_vs_stats"]
            .joined(separator: "; echo @@part; ")).components(separatedBy: "@@part\n")
        guard parts.count == 4 else { return (["the director's table and totals could not be read: \(parts)"], 0) }
        let table = IPVSAdm.table(save: parts[0], thresholds: parts[1], stats: parts[2]), totals = MetricsScrape.kernelTotals(parts[3])
        for sample in scrape.samples where sample.name.hasPrefix("node_ipvs_backend_weight") || sample.name.hasPrefix("lvsctl_backend_desired") {
            log("    \(sample.name) \(sample.labels["remote_address"] ?? "") \(Int(sample.value))")
        }
        let disagreements = scrape.disagreements(table: table, totals: totals, desired: DesiredCluster(cluster.inventory))
        log(disagreements.isEmpty ? "    \(scrape.samples.count) IPVS samples, each as ipvsadm -L -n --stats, /proc/net/ip_vs_stats and the inventory say"
                                  : "    DISAGREES:\n" + disagreements.map { "      \($0)" }.joined(separator: "\n"))
        return (disagreements, scrape.samples.count)
    }

    public static func summary(_ recap: Recap) -> String {
        recap.hosts.map { host in
            guard host.reachable else { return "    \(host.host): UNREACHABLE \(host.error ?? "")" }
            let c = host.counts
            return "    \(host.host): \(c.added + c.changed + c.removed) changed, \(c.ok) ok, \(c.failed) failed (\(String(format: "%.1f", host.seconds)) s)"
                + (host.error.map { "  ERROR: \($0)" } ?? "")
        }.joined(separator: "\n")
    }
}
