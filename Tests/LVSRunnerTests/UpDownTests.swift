import Foundation
import LVSKit
import LVSLab
import LVSRunner
import Testing

/// plan, up, down on real lab hosts (the local kernel has no IPVS: real-server roles end to end,
/// the director's IPVS steps fail cleanly; the full cluster is proven in the VM lab).
@Suite(.serialized) struct UpDownTests {
    @Test(arguments: ["dr", "nat"])
    func realServersUpIdempotentDownRestores(mode: String) async throws {
        try await Lab.with(hosts: 4) { lab in
            let cluster = try LocalCluster(lab, mode: mode)
            let servers: Set<String> = ["host2", "host3"]
            var before: [String: String] = [:]
            for name in servers { before[name] = try await cluster.snapshot(name) }

            let up = await cluster.run(.up, only: servers)
            for name in servers {
                let report = try #require(outcome(up, name))
                #expect(report.reachable && report.error == nil, "\(up.text)")
                #expect(report.counts.failed == 0, "\(failures(up))")
                #expect(report.counts.added == report.changes.count && report.counts.added > 0)
                #expect(report.roundTrips == 1, "one command for all of up's steps")
            }
            // What up did, seen from the hosts themselves.
            let rs1 = try await lab.shell(on: lab["host2"], "ip -o addr show dev lo; cat /proc/sys/net/ipv4/conf/all/arp_ignore; ip route show default")
            if mode == "dr" {
                #expect(rs1.stdout.contains("10.200.\(lab.index).100/32") && rs1.stdout.contains("lo:0"))
                #expect(rs1.stdout.contains("\n1\n"))
            } else {
                #expect(rs1.stdout.contains("default via \(lab.hosts[0].address)"))
            }
            // The test page is served: fetched from another lab host.
            let page = try await lab.shell(on: lab["host4"], "curl -s -m 5 http://\(lab["host3"].address)/")
            #expect(page.stdout == "I am RealServer3 \(lab["host3"].address)\n")

            let again = await cluster.run(.up, only: servers)
            for name in servers {
                #expect(outcome(again, name)?.changes == [], "second up must change nothing on \(name)")
                #expect(outcome(again, name)?.counts.ok == outcome(up, name)?.changes.count)
            }

            let down = await cluster.run(.down, only: servers)
            for name in servers {
                #expect(outcome(down, name)?.counts.failed == 0, "\(down.text)")
                let after = try await cluster.snapshot(name)
                #expect(after == before[name], "\(name) after down differs from before up:\n\(LabSnapshot.difference(before[name] ?? "", after))")
            }
            // down twice is a no-op.
            let twice = await cluster.run(.down, only: servers)
            #expect(twice.hosts.allSatisfy { $0.changes.isEmpty && $0.error == nil })
        }
    }

    @Test func priorNonDefaultValuesComeBack() async throws {
        try await Lab.with(hosts: 4) { lab in
            let cluster = try LocalCluster(lab, mode: "dr")
            _ = try await lab.shell(on: lab["host2"], "echo 2 > /proc/sys/net/ipv4/conf/all/arp_ignore; echo 1 > /proc/sys/net/ipv4/conf/lo/arp_announce")
            let up = await cluster.run(.up, only: ["host2"])
            #expect(outcome(up, "host2")?.changes.map(\.change.text).contains("+ sysctl net.ipv4.conf.all.arp_ignore  2 → 1") == true, "\(up.text)")
            #expect(try await lab.shell(on: lab["host2"], "cat /proc/sys/net/ipv4/conf/all/arp_ignore").stdout == "1\n")
            _ = await cluster.run(.down, only: ["host2"])
            let values = try await lab.shell(on: lab["host2"], "cat /proc/sys/net/ipv4/conf/all/arp_ignore /proc/sys/net/ipv4/conf/lo/arp_announce")
            #expect(values.stdout == "2\n1\n")
        }
    }

    /// The script `render` writes runs by hand: its checks call lvsctl's look-ups (addresses,
    /// routes), which it carries; run again, it applies nothing.
    @Test func renderedScriptRunsByHand() async throws {
        try await Lab.with(hosts: 4) { lab in
            let cluster = try LocalCluster(lab, mode: "dr")
            let state = try #require(cluster.cluster.first { $0.host.name == "host2" })
            let script = ScriptRenderer.script(state, inventory: cluster.inventory)
            let vip = "10.200.\(lab.index).100"
            // bash -x shows each command run: the applies are the `ip` changes.
            func changes(_ run: ShellResult) -> [String] {
                run.stderr.split(separator: "\n").filter { $0.hasPrefix("+ ip ") && !$0.contains(" show") }.map(String.init)
            }
            let first = try await lab.shell(on: lab["host2"], "bash -x -s <<'LVSCTL_SCRIPT'\n\(script)LVSCTL_SCRIPT")
            #expect(first.succeeded, "\(first.stderr)")
            #expect(changes(first) == ["+ ip addr add \(vip)/32 brd \(vip) dev lo label lo:0", "+ ip -4 route replace \(vip) dev lo"], "\(first.stderr)")
            let again = try await lab.shell(on: lab["host2"], "bash -x -s <<'LVSCTL_SCRIPT'\n\(script)LVSCTL_SCRIPT")
            #expect(again.succeeded && changes(again) == [], "\(again.stderr)")
        }
    }

    /// plan lists every change and makes none; after up it lists nothing; a value changed behind
    /// lvsctl's back is drift, shown as such.
    @Test func planIsADiffAndChangesNothing() async throws {
        try await Lab.with(hosts: 4) { lab in
            let cluster = try LocalCluster(lab, mode: "dr")
            let before = try await cluster.snapshot("host2")
            let plan = await cluster.run(.plan, only: ["host2", "host3"])
            let report = try #require(outcome(plan, "host2"))
            #expect(report.changes.count == 8 && report.changes.allSatisfy { $0.status == .planned && $0.change.action == .add })
            #expect(report.roundTrips == 1)
            let afterPlan = try await cluster.snapshot("host2")
            #expect(afterPlan == before, "\(LabSnapshot.difference(before, afterPlan))")
            _ = await cluster.run(.up, only: ["host2"])
            #expect(outcome(await cluster.run(.plan, only: ["host2"]), "host2")?.changes == [])
            _ = try await lab.shell(on: lab["host2"], "echo 0 > /proc/sys/net/ipv4/conf/lo/arp_ignore")
            let drift = outcome(await cluster.run(.plan, only: ["host2"]), "host2")?.changes.map(\.change.text)
            #expect(drift == ["~ sysctl net.ipv4.conf.lo.arp_ignore  0 → 1  (drifted)"])
            _ = await cluster.run(.down, only: ["host2"])
            let after = try await cluster.snapshot("host2")
            #expect(after == before, "\(LabSnapshot.difference(before, after))")
        }
    }

    /// A real server the inventory no longer names is found through the cluster's record and
    /// restored by `up`; plan lists it as leaving first.
    @Test func hostThatLeftIsRestored() async throws {
        try await Lab.with(hosts: 4) { lab in
            let both = try LocalCluster(lab, mode: "dr")
            let before = try await both.snapshot("host3")
            _ = await both.run(.up, only: ["host2", "host3"])
            let one = try LocalCluster(lab, mode: "dr", servers: "[host2]")
            let plan = await one.run(.plan, only: ["host2", "host3"])
            #expect(outcome(plan, "host3")?.leaving == true)
            #expect(outcome(plan, "host3")?.changes.count == 8 && outcome(plan, "host3")?.changes.allSatisfy { $0.change.action == .remove } == true)
            let up = await one.run(.up, only: ["host2", "host3"])
            #expect(up.exitCode == 0, "\(up.text)")
            #expect(outcome(up, "host3")?.counts.removed == 8)
            let after = try await one.snapshot("host3")
            #expect(after == before, "\(LabSnapshot.difference(before, after))")
            _ = await one.run(.down, only: ["host2"])
        }
    }

    /// This kernel has no IPVS: plan refuses the director for the scheduler it lacks (the
    /// requirement comes first, so nothing on it was changed), the others finish, and down still
    /// restores everything.
    @Test func stepThatCannotWorkHereFailsCleanly() async throws {
        try await Lab.with(hosts: 4) { lab in
            let cluster = try LocalCluster(lab, mode: "dr")
            let before = try await cluster.snapshot("host1")
            let plan = await cluster.run(.plan)
            let refused = try #require(outcome(plan, "host1")?.changes.first { $0.status == .failed })
            #expect(refused.change.resource == "scheduler-available ip_vs_rr")
            #expect(refused.output?.contains("has no IPVS scheduler rr: module ip_vs_rr is neither loaded, nor installed, nor built in") == true, "\(refused.output ?? "")")
            #expect(plan.exitCode == 1)
            let up = await cluster.run(.up)
            let director = try #require(outcome(up, "host1"))
            let failed = try #require(director.changes.first { $0.status == .failed })
            #expect(failed.change.resource == "scheduler-available ip_vs_rr")
            #expect(failed.output?.contains("has no IPVS scheduler rr") == true, "\(failed.output ?? "")")
            #expect(director.changes.drop { $0.status != .failed }.dropFirst().allSatisfy { $0.status == .notRun })
            #expect(outcome(up, "host2")?.failed == false && outcome(up, "host3")?.failed == false)
            #expect(up.exitCode == 1)
            let down = await cluster.run(.down)
            #expect(down.exitCode == 0, "\(down.text)")
            #expect(try await cluster.snapshot("host1") == before)
        }
    }

    @Test func stoppedHostIsUnreachableOthersFinish() async throws {
        try await Lab.with(hosts: 4) { lab in
            let cluster = try LocalCluster(lab, mode: "dr", handshakeTimeout: .seconds(2))
            try await lab.signal("STOP", host: lab["host3"])
            let up = await cluster.run(.up, only: ["host2", "host3"])
            try await lab.signal("CONT", host: lab["host3"])
            #expect(outcome(up, "host3")?.reachable == false)
            #expect(outcome(up, "host3")?.error?.contains("did not complete the SSH handshake") == true)
            #expect(outcome(up, "host2")?.failed == false)
            #expect(up.exitCode == 2)
            #expect(up.text.contains("unreachable"))
            _ = await cluster.run(.down, only: ["host2"])
        }
    }
}
