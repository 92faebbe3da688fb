import Testing
@testable import LVSKit

/// Live `ipvsadm -Sn` text + desired state → the exact ipvsadm commands, as kube-proxy's IPVS
/// proxier would make them: a service that stays is edited in place, never deleted.
struct ReconcileTests {
    static let vip = "192.168.0.200"

    /// A DR inventory with one service: `settings` after the scheduler line, `servers` as YAML.
    static func desired(_ settings: String = "scheduler: rr", servers: String = "[rs1, rs2]", mode: String = "dr") -> [IPVSService] {
        let text = """
        hosts: { lb: 10.0.0.1, rs1: 10.0.0.11, rs2: 10.0.0.12, rs3: 10.0.0.13 }
        cluster:
          mode: \(mode)
          director: { host: lb, dip: 10.0.0.1/24 }
          services:
            - vip: \(vip)
              \(settings.replacingOccurrences(of: "\n", with: "\n      "))
              real_servers: \(servers)
        """
        let inventory = try! InventoryParser.parse(text, file: "t.yml").get()
        return DesiredCluster(inventory).ipvsServices
    }

    static let rr2 = """
        -A -t 192.168.0.200:80 -s rr
        -a -t 192.168.0.200:80 -r 10.0.0.11:80 -g -w 1
        -a -t 192.168.0.200:80 -r 10.0.0.12:80 -g -w 1
        """

    static let recorded = [HostOutput.Record(key: IPVSServiceKey.tcp(try! IPAddress.parse(vip).get(), port: 80).resourceID.recordKey,
                                             order: 7, id: "ipvs tcp 192.168.0.200:80")]

    static func commands(live: String, thresholds: String = "", desired: [IPVSService], records: [HostOutput.Record] = recorded) -> [String] {
        HostDiff.ipvs(desired: desired, live: IPVSAdm.table(save: live, thresholds: thresholds), records: records).steps
            .flatMap { step in (step.record.map { ["record \($0.key) (prior: \($0.prior.map { IPVSAdm.saveLines($0).count } ?? 0) lines)"] } ?? [])
                + step.change.shell }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var live: String
        var desired: [IPVSService]
        var commands: [String]
        /// What the director's record holds (by default: the service, created by lvsctl).
        var records = ReconcileTests.recorded
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "nothing live: created, recorded first", live: "", desired: desired(), commands: [
            "record tcp 192.168.0.200:80 (prior: 0 lines)",
            "ipvsadm -A -t 192.168.0.200:80 -s rr",
            "ipvsadm -a -t 192.168.0.200:80 -r 10.0.0.11:80 -g -w 1",
            "ipvsadm -a -t 192.168.0.200:80 -r 10.0.0.12:80 -g -w 1",
        ], records: []),
        Case(name: "already as wanted: nothing", live: rr2, desired: desired(), commands: []),
        Case(name: "rr 1:1 to wrr 1:3: -E (bridged: no connection meets the swap) and -e", live: rr2,
             desired: desired("scheduler: wrr", servers: "[rs1, { host: rs2, weight: 3 }]"), commands: [
                 "ipvsadm -A -f 509387753 -s wrr",
                 "ipvsadm -a -f 509387753 -r 10.0.0.11:80 -g -w 1",
                 "ipvsadm -a -f 509387753 -r 10.0.0.12:80 -g -w 3",
                 "iptables -t mangle -I PREROUTING 1 -d 192.168.0.200/32 -p tcp --dport 80 -j MARK --set-mark 509387753",
                 "ipvsadm -E -t 192.168.0.200:80 -s wrr",
                 "iptables -t mangle -D PREROUTING -d 192.168.0.200/32 -p tcp --dport 80 -j MARK --set-mark 509387753",
                 "ipvsadm -e -t 192.168.0.200:80 -r 10.0.0.12:80 -g -w 3",
             ]),
        Case(name: "rs3 added: -a", live: rr2, desired: desired(servers: "[rs1, rs2, rs3]"), commands: [
            "ipvsadm -a -t 192.168.0.200:80 -r 10.0.0.13:80 -g -w 1",
        ]),
        Case(name: "rs1 removed: drained (weight 0) first", live: rr2, desired: desired(servers: "[rs2]"), commands: [
            "ipvsadm -e -t 192.168.0.200:80 -r 10.0.0.11:80 -g -w 0",
        ]),
        Case(name: "rs3 replaces rs1: added before rs1 drains", live: rr2, desired: desired(servers: "[rs2, rs3]"), commands: [
            "ipvsadm -a -t 192.168.0.200:80 -r 10.0.0.13:80 -g -w 1",
            "ipvsadm -e -t 192.168.0.200:80 -r 10.0.0.11:80 -g -w 0",
        ]),
        Case(name: "persistence with a netmask added", live: rr2, desired: desired("scheduler: rr\npersistence: 300\nnetmask: 255.255.255.0"), commands: [
            "ipvsadm -E -t 192.168.0.200:80 -s rr -p 300 -M 255.255.255.0",
        ]),
        Case(name: "persistence removed", live: "-A -t 192.168.0.200:80 -s rr -p 300\n" + rr2.split(separator: "\n").dropFirst().joined(separator: "\n"),
             desired: desired(), commands: ["ipvsadm -E -t 192.168.0.200:80 -s rr"]),
        Case(name: "thresholds set: -e with -x -y", live: rr2, desired: desired(servers: "[{ host: rs1, upper: 100, lower: 80 }, rs2]"), commands: [
            "ipvsadm -e -t 192.168.0.200:80 -r 10.0.0.11:80 -g -w 1 -x 100 -y 80",
        ]),
        Case(name: "DR to NAT: forwarding edited in place", live: rr2, desired: desired(mode: "nat"), commands: [
            "ipvsadm -e -t 192.168.0.200:80 -r 10.0.0.11:80 -m -w 1",
            "ipvsadm -e -t 192.168.0.200:80 -r 10.0.0.12:80 -m -w 1",
        ]),
        Case(name: "a drain an earlier run began: nothing to send, still deleted after", live: rr2 + "\n-a -t 192.168.0.200:80 -r 10.0.0.13:80 -g -w 0",
             desired: desired(), commands: []),
        Case(name: "the service left the inventory: deleted by its record", live: rr2, desired: [], commands: [
            "ipvsadm -D -t 192.168.0.200:80",
        ]),
    ]

    @Test(arguments: cases)
    func reconcile(_ c: Case) {
        #expect(Self.commands(live: c.live, desired: c.desired, records: c.records) == c.commands)
    }

    /// A scheduler change on a firewall-mark service (IPv6) bridges with a second mark, set after
    /// the service's own, by ip6tables.
    @Test func firewallMarkSchedulerChangeIsBridgedToo() {
        let from = IPVSService(key: .fwmark(8, .v6), scheduler: "rr")
        let bridge = SchedulerBridge(from: from, to: IPVSService(key: .fwmark(8, .v6), scheduler: "sh"))
        #expect(bridge.commands == [
            "ipvsadm -A -f \(bridge.mark) -6 -s sh",
            "ip6tables -t mangle -A PREROUTING -m mark --mark 8 -j MARK --set-mark \(bridge.mark)",
            "ipvsadm -E -f 8 -6 -s sh",
            "ip6tables -t mangle -D PREROUTING -m mark --mark 8 -j MARK --set-mark \(bridge.mark)",
        ])
        #expect(bridge.mark & ~0xFFFF == 0x1E5C_0000)
        #expect(bridge.resourceID.description == "ipvs fwmark \(bridge.mark) ipv6")
    }

    /// Thresholds are read from `-Ln --thresholds` (ipvsadm -S has none): equal ones change nothing.
    @Test func thresholdsComeFromTheListing() {
        let live = Self.rr2
        let listing = """
            Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn
            TCP  192.168.0.200:80 rr
              -> 10.0.0.11:80                 100        80         0          0
              -> 10.0.0.12:80                 0          0          0          0
            """
        #expect(Self.commands(live: live, thresholds: listing, desired: Self.desired(servers: "[{ host: rs1, upper: 100, lower: 80 }, rs2]")) == [])
    }

    /// A service lvsctl did not create and the inventory does not name is left alone; one the
    /// inventory names gets a record of what was there (so down puts it back), then edits.
    @Test func servicesLvsctlDidNotCreate() {
        let other = "-A -t 10.9.9.9:443 -s wlc\n-a -t 10.9.9.9:443 -r 10.0.0.11:443 -m -w 1\n"
        let (steps, leftAlone) = HostDiff.ipvs(desired: Self.desired("scheduler: wrr"), live: IPVSAdm.table(save: other + Self.rr2, thresholds: ""), records: [])
        #expect(leftAlone.map(\.key.description) == ["tcp 10.9.9.9:443"])
        #expect(steps.count == 1 && steps[0].record?.prior.map(IPVSAdm.saveLines) == Self.rr2.split(separator: "\n").map(String.init))
        #expect(steps[0].record?.undo == """
            ipvsadm -D -t 192.168.0.200:80 2>/dev/null || :
            ipvsadm -A -t 192.168.0.200:80 -s rr
            ipvsadm -a -t 192.168.0.200:80 -r 10.0.0.11:80 -g -w 1
            ipvsadm -a -t 192.168.0.200:80 -r 10.0.0.12:80 -g -w 1
            """)
        #expect(HostDiff.leftAlone(leftAlone[0]).text == "! ipvs tcp 10.9.9.9:443  scheduler wlc  (not created by lvsctl: left alone)")
    }

    /// The same changes in plan's words.
    @Test func changesInPlanWords() {
        let steps = HostDiff.ipvs(desired: Self.desired("scheduler: wrr", servers: "[{ host: rs2, weight: 3 }, rs3]"),
                                  live: IPVSAdm.table(save: Self.rr2, thresholds: ""), records: Self.recorded).steps
        #expect(steps.flatMap(\.change.descriptions).map(\.text) == [
            "~ ipvs tcp 192.168.0.200:80  scheduler rr → wrr  (new connections bridged through a temporary service meanwhile)",
            "+ ipvs tcp 192.168.0.200:80 → 10.0.0.13:80  dr, weight 1",
            "~ ipvs tcp 192.168.0.200:80 → 10.0.0.12:80  weight 1 → 3",
            "- ipvs tcp 192.168.0.200:80 → 10.0.0.11:80  weight 1 → 0  (drain, then delete)",
        ])
    }

    /// The plan `plan` prints and `up` runs: a new real server whose host is not ready is held
    /// back with the reason, a stranger's service is left alone (keepalived's own is not listed),
    /// and a service needing nothing counts as unchanged.
    @Test func planHoldsBackUnreadyServersAndLeavesStrangersAlone() {
        let other = "-A -t 10.9.9.9:443 -s wlc\n-A -t 10.9.9.8:443 -s wlc\n"
        let desired = Self.desired(servers: "[rs1, rs2, rs3]") + Self.desired().map { service in
            var moved = service
            moved.key = .tcp(try! IPAddress.parse("192.168.0.201").get(), port: 80)
            return moved
        }
        let live = IPVSAdm.table(save: other + Self.rr2 + "\n" + Self.rr2.replacingOccurrences(of: "192.168.0.200", with: "192.168.0.201"), thresholds: "")
        let records = Self.recorded + [HostOutput.Record(key: desired[1].key.resourceID.recordKey, order: 8, id: desired[1].key.resourceID.description)]
        let plan = IPVSPlan(desired: desired, live: live, records: records,
                            unready: { _, destination in destination.endpoint == ep("10.0.0.13:80") ? "rs3" : nil },
                            keepalived: { $0.description == "tcp 10.9.9.8:443" })
        #expect(plan.steps.isEmpty)
        #expect(plan.withheldChanges.map(\.change.text) == ["+ ipvs tcp 192.168.0.200:80 → 10.0.0.13:80  dr, weight 1"])
        #expect(plan.withheldChanges.map(\.reason) == ["rs3 is not ready (its up failed): no traffic sent to it"])
        #expect(plan.leftAloneChanges.map(\.text) == ["! ipvs tcp 10.9.9.9:443  scheduler wlc  (not created by lvsctl: left alone)"])
        #expect(plan.unchanged == 2, "both: the first needs nothing once rs3 is held back")
    }

    /// keepalived's services: a real server the live table holds and the inventory no longer
    /// names is drained before keepalived's reload (weight 0, then deleted once idle); the sorry
    /// server standing in, a service keepalived has not made yet, and one that stays are not.
    @Test func keepalivedServicesDrainWhatLeaves() {
        let kept = Self.desired(servers: "[rs1]")[0]
        let sorry = ep("10.0.0.13:80")
        let live = IPVSAdm.table(save: Self.rr2 + "\n-a -t 192.168.0.200:80 -r 10.0.0.13:80 -g -w 1\n", thresholds: "")
        let plan = IPVSPlan(desired: [], live: live, records: [], keepalived: { _ in true }, keepalivedServices: [(kept, sorry)])
        #expect(plan.steps.map(\.change.shell) == [["ipvsadm -e -t 192.168.0.200:80 -r 10.0.0.12:80 -g -w 0"]])
        #expect(plan.steps.allSatisfy { $0.record == nil }, "keepalived's service: lvsctl records nothing of it")
        #expect(plan.changes.map(\.text) == ["- ipvs tcp 192.168.0.200:80 → 10.0.0.12:80  weight 1 → 0  (drain, then delete)"])
        #expect(GracefulTermination(plan.steps, poll: .seconds(1), timeout: .seconds(5)).deletions.map(\.change.shell)
                == [["ipvsadm -d -t 192.168.0.200:80 -r 10.0.0.12:80"]])
        let notYet = IPVSPlan(desired: [], live: IPVSTable(), records: [], keepalived: { _ in true }, keepalivedServices: [(kept, sorry)])
        #expect(notYet.steps.isEmpty)
        let same = IPVSPlan(desired: [], live: live, records: [], keepalived: { _ in true },
                            keepalivedServices: [(Self.desired(servers: "[rs1, rs2]")[0], sorry)])
        #expect(same.steps.isEmpty && same.leftAlone.isEmpty)
    }
}
