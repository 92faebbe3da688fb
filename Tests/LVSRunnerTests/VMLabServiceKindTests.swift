import Foundation
import LVSKit
import LVSLab
import LVSRunner
import Testing

/// Every scheduler the lab's kernel has, UDP, firewall marks, persistence with a netmask and
/// IPv6 on a real IPVS kernel, each judged by `verify` by what it promises.
extension LabEndToEndTests {
    /// The scheduler matrix runs in DR in CI (NAT and TUN run every other test); all three modes
    /// with `LVSCTL_FULL_MATRIX=1 swift test --filter everySchedulerInPlace`.
    static let matrixModes = ProcessInfo.processInfo.environment["LVSCTL_FULL_MATRIX"] == "1" ? ["nat", "dr", "tun"] : ["dr"]

    /// DR, one live service: each scheduler (and weights, thresholds, persistence) in turn, each
    /// `up` editing the service in place (only the director changes, only its IPVS service, and
    /// its connection counter never goes back), each judged by its own verdicts. twos: refused
    /// by plan with the reason where the kernel lacks it (Debian 12), else judged.
    @Test(arguments: matrixModes)
    func everySchedulerInPlace(mode: String) async throws {
        let lab = try labVM()
        let before = try await lab.snapshots()
        let uneven = ["rs1": 1, "rs2": 5, "rs3": 2]
        let cases: [(scheduler: String, weights: [String: Int], settings: [String], kinds: [VerdictKind])] = [
            ("rr", [:], [], [.cyclesInOrder]),
            ("wrr", ["rs1": 1, "rs2": 3, "rs3": 2], [], [.followsWeights]),
            ("rr", ["rs2": 0], [], [.weightZeroIdle, .cyclesInOrder]),
            ("rr", [:], ["thresholds"], [.upperThreshold]),
            ("lc", [:], [], [.followsConnections]),
            ("wlc", uneven, [], [.followsConnections]),
            ("sed", uneven, [], [.followsConnections]),
            ("nq", [:], [], [.followsConnections]),
            ("dh", [:], [], [.sameServer]),
            ("lblc", [:], [], [.sameServer]),
            ("lblcr", [:], [], [.sameServer]),
            ("fo", uneven, [], [.highestWeightOnly]),
            ("ovf", uneven, [], [.highestWeightOnly]),
            ("sh", [:], [], [.sameServer, .sourcesSpread]),
            ("mh", [:], [], [.sameServer, .sourcesSpread]),
            ("rr", [:], ["persistence: 30"], [.sameServer, .sourcesSpread]),
            ("rr", [:], ["persistence: 30", "netmask: 24"], [.sameServer, .sourcesSpread]),
        ]
        var answered = 0
        var last: LabCluster?
        for (index, step) in cases.enumerated() {
            let name = ([mode, step.scheduler] + step.settings).joined(separator: " ")
            // "thresholds": rs1 at most 2 connections (-x 2 -y 1), which earlier steps' entries already fill.
            let thresholds = step.settings == ["thresholds"]
            let cluster = try lab.cluster(lab.inventory(mode: mode, scheduler: step.scheduler, weights: step.weights, settings: thresholds ? [] : step.settings,
                                                        serverSettings: thresholds ? ["rs1": "upper: 2, lower: 1"] : [:]),
                                          name: "matrix-\(mode)-\(index)", library: Self.library.get())
            let up = await cluster.run(.up)
            #expect(up.exitCode == 0, "\(name) up:\n\(up.text)\n\(failures(up))")
            if index > 0 {
                #expect(up.hosts.filter { $0.host != "director" }.allSatisfy { $0.changes.isEmpty }, "\(name): a real server changed")
                #expect(outcome(up, "director")?.changes.allSatisfy { $0.change.resource.hasPrefix("ipvs ") && $0.change.action == .change } == true,
                        "\(name): \(outcome(up, "director")?.changes.map(\.change.text) ?? [])")
            }
            let report = await cluster.verify()
            #expect(report.passed, "\(name): \(report.text(cluster.inventory))")
            let verdicts = report.services.first?.verdicts ?? []
            for kind in step.kinds {
                #expect(verdicts.contains { $0.kind == kind && $0.passed }, "\(name): no passing \(kind.rawValue) in \(report.text(cluster.inventory))")
            }
            print("matrix: \(name): " + verdicts.map { "\($0.kind.rawValue) \($0.passed ? "PASS" : "FAIL") (\($0.detail))" }.joined(separator: "; "))
            answered += report.services.first?.counts.values.reduce(0, +) ?? 0
            last = cluster
        }
        // Never re-created: the service's counter holds every connection of every step
        // (verify waited for IPVS to sum its counters).
        let counter = try await connectionsCounter(lab)
        #expect(counter >= answered, "the service counted \(counter) connections of the \(answered) answered: re-created?")
        let twos = try lab.cluster(lab.inventory(mode: mode, scheduler: "twos"), name: "matrix-\(mode)-twos", library: Self.library.get())
        let plan = await twos.run(.plan)
        let kernelHasTwos = try await lab.run("director", "modinfo ip_vs_twos >/dev/null 2>&1 && echo yes || echo no").contains("yes")
        if kernelHasTwos {
            #expect(plan.exitCode == 0, "\(plan.text)")
        } else {
            let refused = outcome(plan, "director")?.changes.first { $0.status == .failed }
            #expect(refused?.change.resource == "scheduler-available ip_vs_twos", "\(plan.text)")
            #expect(refused?.output?.contains("has no IPVS scheduler twos") == true, "\(plan.text)")
            #expect(plan.exitCode == 1)
            print("matrix: twos: refused by plan: this kernel has no ip_vs_twos")
        }
        let final = try #require(last)
        let down = await final.run(.down)
        #expect(down.exitCode == 0, "\(down.text)")
        #expect(try await lab.differences(from: before).isEmpty)
    }

    /// IPv6 (DR, then the same services in NAT through the director's dip6), UDP and a firewall
    /// mark grouping ports 80 and 8080 with persistence; down restores every host.
    /// Beside the lab's HTTP service: IPv6, UDP, a firewall mark over two ports, port 0.
    static let serviceKinds = """
            - vip: "fd00:1::200"
              scheduler: rr
              real_servers: [{ host: rs1, rip: "fd00:2::11" }, { host: rs2, rip: "fd00:2::12" }, { host: rs3, rip: "fd00:2::13" }]
            - { vip: 192.168.0.200, port: 53, protocol: udp, scheduler: rr, real_servers: [rs1, rs2, rs3] }
            - { vip: 192.168.0.201, fwmark: 5, ports: [80, 8080], persistence: 30, scheduler: rr, real_servers: [rs1, rs2, rs3] }
            - { vip: 192.168.0.202, port: 0, persistence: 30, scheduler: rr, real_servers: [rs1, rs2, rs3] }
        """

    @Test func ipv6UDPAndFirewallMarkServices() async throws {
        let lab = try labVM()
        let before = try await lab.snapshots()
        let more = Self.serviceKinds
        for mode in ["dr", "nat"] {
            let cluster = try lab.cluster(lab.inventory(mode: mode, moreServices: more, dip6: mode == "nat"), name: "kinds-\(mode)", library: Self.library.get())
            let up = await cluster.run(.up)
            #expect(up.exitCode == 0, "\(mode) up:\n\(up.text)\n\(failures(up))")
            let report = await cluster.verify()
            #expect(report.passed, "\(mode): \(report.text(cluster.inventory))")
            let byService = Dictionary(report.services.map { ($0.service, $0) }) { a, _ in a }
            for key in ["[fd00:1::200]:80/tcp", "192.168.0.200:53/udp"] {
                #expect(byService[key]?.counts == ["rs1": 4, "rs2": 4, "rs3": 4], "\(mode) \(key): \(byService[key]?.counts ?? [:])")
            }
            for key in ["fwmark 5", "192.168.0.202:0/tcp"] {
                let persistent = try #require(byService[key])
                #expect(persistent.verdicts.contains { $0.kind == .sameServer && $0.passed } && persistent.verdicts.contains { $0.kind == .sourcesSpread && $0.passed },
                        "\(mode) \(key): \(report.text(cluster.inventory))")
            }
            // Only the named ports carry the mark: port 81 of the VIP is nobody's service.
            let other = try await lab.run("client", "curl -s -m 3 -o /dev/null -w '%{http_code}' http://192.168.0.201:81/ || true")
            #expect(other == "000", "\(mode): port 81 of the marked VIP answered: \(other)")
            if mode == "dr" {
                // The real servers hold the IPv6 VIP on lo and never answer neighbour solicitations for it.
                let mac = try await lab.run("director", "cat /sys/class/net/eth0/address").trimmingCharacters(in: .whitespacesAndNewlines)
                let neighbour = try await lab.run("client", "ip -6 neigh show fd00:1::200")
                #expect(neighbour.contains("lladdr \(mac)"), "the VIP's neighbour entry is not the director's: \(neighbour)")
            }
            print("kinds \(mode): " + report.services.map { "\($0.service) \($0.counts)" }.joined(separator: "; "))
            if mode == "nat" {
                let down = await cluster.run(.down)
                #expect(down.exitCode == 0, "\(down.text)")
            }
        }
        let differences = try await lab.differences(from: before)
        #expect(differences.isEmpty, "\(differences)")
    }
}
