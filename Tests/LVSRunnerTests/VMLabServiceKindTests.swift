import Foundation
import LVSKit
import LVSLab
import LVSRunner
import Testing

/// Every scheduler the lab's kernel has, UDP, firewall marks, persistence with a netmask and
/// IPv6 on a real IPVS kernel, each judged by `verify` by what it promises.
extension VMLabEndToEndTests {
    /// The scheduler matrix runs in DR in CI (NAT and TUN run every other test); all three modes
    /// with `LVSCTL_FULL_MATRIX=1 swift test --filter everySchedulerInPlace`.
    static let matrixModes = ProcessInfo.processInfo.environment["LVSCTL_FULL_MATRIX"] == "1" ? ["nat", "dr", "tun"] : ["dr"]

    /// One configuration of the matrix: a scheduler with weights and settings ("thresholds":
    /// rs1 at most 2 connections), and the verdicts it must pass.
    struct MatrixCase: Sendable {
        var scheduler: String
        var weights: [String: Int] = [:]
        var settings: [String] = []
        var kinds: [VerdictKind]
        var name: String { ([scheduler] + settings + (weights.isEmpty ? [] : [weights.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")])).joined(separator: " ") }
    }

    static let uneven = ["rs1": 1, "rs2": 5, "rs3": 2]
    static let matrix: [MatrixCase] = [
        MatrixCase(scheduler: "rr", kinds: [.cyclesInOrder]),
        MatrixCase(scheduler: "wrr", weights: ["rs1": 1, "rs2": 3, "rs3": 2], kinds: [.followsWeights]),
        MatrixCase(scheduler: "rr", weights: ["rs2": 0], kinds: [.weightZeroIdle, .cyclesInOrder]),
        MatrixCase(scheduler: "rr", settings: ["thresholds"], kinds: [.upperThreshold]),
        MatrixCase(scheduler: "lc", kinds: [.followsConnections]),
        MatrixCase(scheduler: "wlc", weights: uneven, kinds: [.followsConnections]),
        MatrixCase(scheduler: "sed", weights: uneven, kinds: [.followsConnections]),
        MatrixCase(scheduler: "nq", kinds: [.followsConnections]),
        MatrixCase(scheduler: "dh", kinds: [.sameServer]),
        MatrixCase(scheduler: "lblc", kinds: [.sameServer]),
        MatrixCase(scheduler: "lblcr", kinds: [.sameServer]),
        MatrixCase(scheduler: "fo", weights: uneven, kinds: [.highestWeightOnly]),
        MatrixCase(scheduler: "ovf", weights: uneven, kinds: [.highestWeightOnly]),
        // Tied weights, as the lab's own inventories have them: the first the kernel lists.
        MatrixCase(scheduler: "fo", kinds: [.highestWeightOnly]),
        MatrixCase(scheduler: "ovf", kinds: [.highestWeightOnly]),
        // The client's eight addresses, each where the kernel's table sends it (no spread promised).
        MatrixCase(scheduler: "sh", kinds: [.sameServer, .followsHash]),
        MatrixCase(scheduler: "mh", kinds: [.sameServer, .followsHash]),
        MatrixCase(scheduler: "mh", weights: ["rs1": 1, "rs2": 3, "rs3": 2], kinds: [.sameServer, .followsHash]),
        MatrixCase(scheduler: "rr", settings: ["persistence: 30"], kinds: [.sameServer, .sourcesSpread]),
        MatrixCase(scheduler: "rr", settings: ["persistence: 30", "netmask: 24"], kinds: [.sameServer, .sourcesSpread]),
    ]

    /// The matrix as services, service `i` on VIP 192.168.0.(210 + i) with configuration
    /// `(i + shift) % count`.
    static func matrixInventory(_ lab: VMLab, mode: String, shift: Int) -> String {
        let rips = Dictionary(uniqueKeysWithValues: lab.topology.hosts.map { ($0.spec.name, $0.sshAddress) })
        let services = matrix.indices.map { index -> String in
            let step = matrix[(index + shift) % matrix.count]
            let servers = ["rs1", "rs2", "rs3"].map { host in
                var entry = "{ host: \(host), rip: \(rips[host]!)"
                if let weight = step.weights[host] { entry += ", weight: \(weight)" }
                if step.settings == ["thresholds"] && host == "rs1" { entry += ", upper: 2, lower: 1" }
                return entry + " }"
            }
            let settings = step.settings == ["thresholds"] ? [] : step.settings
            return "    - { vip: 192.168.0.\(210 + index), port: 80, scheduler: \(step.scheduler)"
                + settings.map { ", " + $0 }.joined() + ", real_servers: [\(servers.joined(separator: ", "))] }\n"
        }.joined()
        // The lab's own service stays as it is: the matrix is the services after it.
        return lab.inventory(mode: mode, moreServices: services)
    }

    /// Every scheduler the lab's kernel has, with weights, thresholds and persistence: each
    /// configuration a service on a VIP of its own, all made by one `up` and judged by one
    /// `verify`; then every service edited in place to the next configuration (only the
    /// director's IPVS services change, each by `-E`/`-e`, bridged where its scheduler changes;
    /// no service is made again: its counter holds every connection) and judged again. twos:
    /// refused by plan with the reason where the kernel lacks it (Debian 12), else judged.
    @Test(arguments: matrixModes)
    func everySchedulerInPlace(mode: String) async throws {
        let lab = try labVM()
        let before = try await lab.snapshots(of: lab.directorAndRealServers)
        var answered: [String: Int] = [:]
        var last: LabCluster?
        for shift in 0...1 {
            let cluster = try lab.cluster(Self.matrixInventory(lab, mode: mode, shift: shift), name: "matrix-\(mode)-\(shift)", library: Self.library.get())
            let up = await cluster.run(.up)
            #expect(up.exitCode == 0, "\(mode) shift \(shift) up:\n\(up.text)\n\(failures(up))")
            if shift > 0 {
                #expect(up.hosts.filter { $0.host != "director" }.allSatisfy { $0.changes.isEmpty }, "shift \(shift): a real server changed")
                let changes = outcome(up, "director")?.changes ?? []
                #expect(!changes.isEmpty && changes.allSatisfy { $0.change.resource.hasPrefix("ipvs ") && $0.change.action == .change },
                        "shift \(shift): \(changes.map(\.change.text))")
            }
            let report = await cluster.verify()
            #expect(report.passed, "\(mode) shift \(shift): \(report.text(cluster.inventory))")
            for index in Self.matrix.indices {
                let step = Self.matrix[(index + shift) % Self.matrix.count]
                let address = "192.168.0.\(210 + index):80/tcp"
                let verdicts = report.services.first { $0.service == address }?.verdicts ?? []
                for kind in step.kinds {
                    #expect(verdicts.contains { $0.kind == kind && $0.passed }, "\(mode) \(step.name) on \(address): no passing \(kind.rawValue)")
                }
                print("matrix: \(mode) \(step.name): " + verdicts.map { "\($0.kind.rawValue) \($0.passed ? "PASS" : "FAIL") (\($0.detail))" }.joined(separator: "; "))
                answered[address, default: 0] += report.services.first { $0.service == address }?.counts.values.reduce(0, +) ?? 0
            }
            last = cluster
        }
        // Never re-created: each service's counter holds every connection of both rounds (verify
        // waited for IPVS to sum its counters).
        let counters = IPVSAdm.table(listing: try await lab.run("director", IPVSAdm.readStats)).serviceStats
        for (address, count) in answered {
            let vip = try IPAddress.parse(String(address.prefix { $0 != ":" })).get()
            let counter = counters[.tcp(vip, port: 80)]?.connections ?? -1
            #expect(counter >= count, "\(address) counted \(counter) connections of the \(count) answered: re-created?")
        }
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
        let before = try await lab.snapshots(of: lab.directorAndRealServers)
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
