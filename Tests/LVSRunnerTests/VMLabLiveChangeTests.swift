import Foundation
import LVSKit
import LVSLab
import LVSRunner
import Testing

/// Issue 11's scenario on the lab VM, with a client loop running through the VIP all along:
/// (a) rr 1:1 → wrr 1:3, (b) rs3 added, (c) rs1 removed (drained, deleted, restored to its
/// snapshot), (d) persistence added and removed — zero failed requests and a connection counter
/// that never goes back (the service is never re-created); then (e) the VIP moved and (f) down.
extension VMLabEndToEndTests {
    @Test func liveClusterChangedInPlaceWithoutFailedRequests() async throws {
        let lab = try labVM()
        let library = try Self.library.get()
        var options = RunOptions()
        options.drainTimeout = .seconds(5)
        let before = try await lab.snapshots(of: lab.directorAndRealServers)
        func cluster(_ stage: String, scheduler: String = "rr", servers: [String], weights: [String: Int] = [:],
                     vip: String = LabScenario.vip, settings: [String] = []) throws -> LabCluster {
            try lab.cluster(lab.inventory(mode: "dr", scheduler: scheduler, servers: servers, weights: weights, vip: vip, settings: settings),
                            name: "e2e-live-\(stage)", library: library, options: options)
        }
        let start = try cluster("start", servers: ["rs1", "rs2"])
        let first = await start.run(.up)
        #expect(first.exitCode == 0, "\(first.text)\n\(failures(first))")
        #expect(await start.verify().passed)

        // The loop's connections come from an address of their own: a verify request whose
        // source port matched a connection the loop made while persistence was on (which the
        // kernel never reschedules, port reuse or not: it is a template's) went to that
        // connection's real server uncounted, and stage d2's weights and counters failed once.
        let loop = try await ClientLoop.start(lab, vip: LabScenario.vip, source: "192.168.0.107")
        var counter = try await connectionsCounter(lab)
        let stages: [(String, LabCluster, [VerdictKind])] = [
            ("a: rr 1:1 → wrr 1:3", try cluster("a", scheduler: "wrr", servers: ["rs1", "rs2"], weights: ["rs2": 3]), [.followsWeights]),
            ("b: rs3 added", try cluster("b", scheduler: "wrr", servers: ["rs1", "rs2", "rs3"], weights: ["rs2": 3]), [.followsWeights]),
            ("c: rs1 removed", try cluster("c", scheduler: "wrr", servers: ["rs2", "rs3"], weights: ["rs2": 3]), [.followsWeights]),
            ("d: persistence added", try cluster("d1", scheduler: "wrr", servers: ["rs2", "rs3"], weights: ["rs2": 3],
                                                 settings: ["persistence: 300", "netmask: 255.255.255.0"]), [.sameServer]),
            ("d: persistence removed", try cluster("d2", scheduler: "wrr", servers: ["rs2", "rs3"], weights: ["rs2": 3]), [.followsWeights]),
        ]
        for (stage, next, expected) in stages {
            let up = await next.run(.up)
            #expect(up.exitCode == 0, "\(stage):\n\(up.text)\n\(failures(up))")
            // The director answers twice (its resources and table, then the IPVS edits); a
            // scheduler change once more (its bridge removed), a drain once per count and once more.
            let trips = up.hosts.map { "\($0.host) \($0.roundTrips)" }.joined(separator: ", ")
            print("\(stage): round trips \(trips); \(outcome(up, "director")?.changes.map(\.change.text) ?? [])")
            #expect(outcome(up, "director")?.roundTrips ?? 99 <= (stage.hasPrefix("a") ? 3 : stage.hasPrefix("c") ? 99 : 2), "\(stage): \(trips)")
            #expect(up.hosts.filter { $0.host != "director" && !$0.leaving }.allSatisfy { $0.roundTrips == 1 }, "\(stage): \(trips)")
            if stage.hasPrefix("c") {
                let drained = outcome(up, "director")?.changes.first { $0.change.resource == "ipvs tcp 192.168.0.200:80 → 10.0.0.11:80" }
                #expect(drained?.status == .done && (drained?.change.note?.hasPrefix("drain") ?? false), "\(String(describing: drained))")
                #expect(outcome(up, "rs1")?.leaving == true && outcome(up, "rs1")?.counts.removed ?? 0 > 0, "\(up.text)")
                let rs1 = try await lab.snapshot("rs1")
                #expect(rs1 == before["rs1"], "rs1 after leaving:\n\(LabSnapshot.difference(before["rs1"] ?? "", rs1))")
            }
            try await loop.pause()
            try await Task.sleep(for: .seconds(2.2))   // IPVS sums its counters every 2 s: let them include the loop's last requests
            let report = await next.verify()
            try await loop.resume()
            #expect(report.passed, "\(stage): \(report.text(next.inventory))")
            #expect(expected.allSatisfy { kind in report.services.flatMap(\.verdicts).contains { $0.kind == kind && $0.passed } }, "\(stage)")
            let witness = report.services.flatMap(\.verdicts).first { $0.kind == .countersAgree }
            #expect(witness?.passed == true && witness?.detail.hasPrefix("not witnessed") == false, "\(stage): \(String(describing: witness))")
            // IPVS sums its counters about every 2 s (verify already waited for its own answers):
            // read until the counter moves, at most ~5 s.
            var now = try await connectionsCounter(lab)
            for _ in 0..<10 where now <= counter {
                try await Task.sleep(for: .milliseconds(500))
                now = try await connectionsCounter(lab)
            }
            #expect(now > counter, "\(stage): the service's counter went from \(counter) to \(now): re-created?")
            counter = now
        }
        // The live view under the loop's traffic: new connections per second on the service, the
        // last of five refreshes a second apart (rates need a reading 2.5 s older; the first
        // reading, which connects too, ends late).
        let watch = try await Shell.bash("\(try lvsctlBinary()) status -i \(stages[stages.count - 1].1.inventory.file) --watch --count 5 --interval 1")
        let serviceLines = watch.stdout.split(separator: "\n").filter { $0.hasPrefix("  ipvs tcp 192.168.0.200:80 ") }
        let rate = serviceLines.last.flatMap { line in line.firstMatch(of: /([0-9]+\.[0-9]) conn\/s/).flatMap { Double($0.1) } } ?? 0
        #expect(watch.status == 0 && serviceLines.count == 5 && rate > 1, "status --watch under the client loop:\n\(watch.stdout)\(watch.stderr)")
        print("status --watch under the client loop: \(serviceLines.last ?? "")")
        let traffic = try await loop.stop()
        print("client loop: \(traffic.requests) requests in \(String(format: "%.1f", traffic.seconds)) s (\(String(format: "%.1f", traffic.perSecond))/s), \(traffic.failures.count) failed")
        #expect(traffic.failures.isEmpty, "failed requests during the changes: \(traffic.failures.prefix(10))")
        #expect(traffic.perSecond >= 10, "the loop ran at \(traffic.perSecond) requests/s")

        // (e) The VIP moves: the old one is gone from every host, the new one balanced. And
        // protocol timeouts are set (down puts the kernel's back: the snapshot holds them).
        let movedInventory = lab.inventory(mode: "dr", scheduler: "wrr", servers: ["rs2", "rs3"], weights: ["rs2": 3], vip: "192.168.0.201")
            .replacingOccurrences(of: "\ncluster:\n", with: "\ncluster:\n  timeouts: { tcp: 7200, tcp_fin: 60 }\n")
        let moved = try lab.cluster(movedInventory, name: "e2e-live-e", library: library, options: options)
        let up = await moved.run(.up)
        #expect(up.exitCode == 0, "\(up.text)\n\(failures(up))")
        let timeouts = outcome(up, "director")?.changes.first { $0.change.resource == "ipvs-timeouts tcp tcpfin udp" }
        #expect(timeouts?.status == .done && timeouts?.change.differences.map(\.text) == ["tcp 900 tcpfin 120 → tcp 7200 tcpfin 60"],
                "\(String(describing: timeouts))")
        #expect(try await lab.run("director", IPVSAdm.readTimeouts.joined(separator: " ")) == "Timeout (tcp tcpfin udp): 7200 60 300\n")
        for host in ["director", "rs2", "rs3"] {
            #expect(!(try await lab.run(host, "ip -o addr show; ip route show table all")).contains("192.168.0.200"), "\(host) still has the old VIP")
        }
        #expect(try await lab.run("client", "curl -s -m 3 http://192.168.0.200/ || echo NO-ANSWER") == "NO-ANSWER\n")
        let report = await moved.verify()
        #expect(report.passed, "\(report.text(moved.inventory))")

        // (f) down with the last inventory: every host as before the first up.
        let down = await moved.run(.down)
        #expect(down.exitCode == 0, "\(down.text)")
        let differences = try await lab.differences(from: before)
        #expect(differences.isEmpty, "differs after down: \(differences)")
    }
}
