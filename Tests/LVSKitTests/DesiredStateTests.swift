import Foundation
import Testing
@testable import LVSKit

/// Resources are named by what they are, and a host's record is keyed by that name.
struct DesiredStateTests {
    @Test func identitiesOfTheDRRoles() throws {
        let states = try render(loadInventory("dr.yml"))
        let director = try #require(states.first { $0.host.name == "director" })
        #expect(director.resources.map(\.id.description) == [
            "scheduler-available ip_vs_rr", "module ip_vs", "package ipvsadm",
            "sysctl net.ipv4.vs.conn_reuse_mode", "sysctl net.ipv4.vs.expire_nodest_conn", "sysctl net.ipv4.vs.expire_quiescent_template",
            "sysctl net.ipv4.ip_forward", "address eth0 192.168.229.111/32", "route 192.168.229.111/32", "ipvs tcp 192.168.229.111:80",
        ])
        let rs1 = try #require(states.first { $0.host.name == "rs1" })
        #expect(rs1.resources.map(\.id.description) == [
            "address lo 192.168.229.111/32", "route 192.168.229.111/32",
            "sysctl net.ipv4.conf.lo.arp_ignore", "sysctl net.ipv4.conf.all.arp_ignore",
            "sysctl net.ipv4.conf.lo.arp_announce", "sysctl net.ipv4.conf.all.arp_announce",
            "file /var/lib/lvsctl/www/80/index.html", "web-server 80",
        ])
    }

    /// Record keys: readable, safe in a path and a shell word, the same in every process.
    @Test(arguments: [
        ("sysctl", "net.ipv4.conf.all.arp_ignore", "sysctl-net.ipv4.conf.all.arp-ignore-ab336a4ad8ce52dc"),
        ("address", "lo 192.168.0.200/32", "address-lo-192.168.0.200-32-f3b8f52c75cf2673"),
        ("ipvs", "tcp [fd00::200]:80", "ipvs-tcp-fd00-200-80-a07db88b49ba6968"),
    ])
    func recordKeys(kind: String, key: String, expected: String) {
        let id = ResourceID(kind: kind, key: key)
        #expect(id.recordKey == expected)
        #expect(id.recordKey.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-.".contains($0)) })
    }

    /// A sysctl under an interface whose name has a dot (a VLAN) keeps the dot as sysctl(8) does.
    @Test func sysctlNamesFollowSysctl8() {
        #expect(Sysctl(path: "net/ipv4/conf/eth0.100/send_redirects", value: "0").name == "net.ipv4.conf.eth0/100.send_redirects")
    }

    /// Test pages do not depend on the other servers: removing or reordering some rewrites none.
    @Test func pagesAreStable() throws {
        let text = try String(contentsOfFile: "\(repositoryRoot)/inventories/dr.yml", encoding: .utf8)
        let before = try InventoryParser.parse(text, file: "dr.yml").get()
        let after = try InventoryParser.parse(text.replacingOccurrences(of: "[rs1, rs2]", with: "[rs2]"), file: "dr.yml").get()
        #expect(after.page(for: "rs2") == before.page(for: "rs2"))
        #expect(before.page(for: "rs2") == "I am RealServer2 192.168.229.134")
        let reordered = try InventoryParser.parse(text.replacingOccurrences(of: "[rs1, rs2]", with: "[rs2, rs1]"), file: "dr.yml").get()
        #expect(reordered.page(for: "rs1") == before.page(for: "rs1"))
    }

    /// `{n}` for a host whose name has no number: the RIP's last number.
    @Test func pageNumberFromTheRIP() {
        #expect(Inventory.number(host: "web", rip: try! IPAddress.parse("10.1.0.23").get()) == "23")
        #expect(Inventory.number(host: "web07", rip: nil) == "7")
    }
}

/// What a host's record holds against what is desired: the exact undo list, newest first.
struct UndoListTests {
    static func record(_ id: String, _ order: Int, applied: String? = nil) -> HostOutput.Record {
        let words = id.split(separator: " ", maxSplits: 1).map(String.init)
        return HostOutput.Record(key: ResourceID(kind: words[0], key: words[1]).recordKey, order: order, id: id, applied: applied)
    }

    static let rs1Records = [
        record("address lo 192.168.0.200/32", 1, applied: "label lo:0"), record("route 192.168.0.200/32", 2, applied: "dev lo"),
        record("sysctl net.ipv4.conf.lo.arp_ignore", 3, applied: "1"), record("file /var/lib/lvsctl/www/80/index.html", 4),
        record("web-server 80", 5),
    ]

    static func ids(_ strings: [String]) -> [ResourceID] {
        strings.map { let words = $0.split(separator: " ", maxSplits: 1).map(String.init); return ResourceID(kind: words[0], key: words[1]) }
    }

    @Test func vipMovedUndoesTheOldOnesNewestFirst() {
        let desired = Self.ids(["address lo 192.168.0.201/32", "route 192.168.0.201/32", "sysctl net.ipv4.conf.lo.arp_ignore",
                                "file /var/lib/lvsctl/www/80/index.html", "web-server 80"])
        #expect(HostDiff.unwanted(Self.rs1Records, desired: desired).map(\.id) == ["route 192.168.0.200/32", "address lo 192.168.0.200/32"])
    }

    @Test func hostThatLeftUndoesEverythingNewestFirst() {
        #expect(HostDiff.unwanted(Self.rs1Records, desired: []).map(\.order) == [5, 4, 3, 2, 1])
    }

    @Test func nothingLeftOverWhenAllIsWanted() {
        #expect(HostDiff.unwanted(Self.rs1Records, desired: Self.ids(Self.rs1Records.map(\.id))).isEmpty)
    }

    @Test func removalsInPlanWords() {
        #expect(HostDiff.removal(Self.rs1Records[2]).text == "- sysctl net.ipv4.conf.lo.arp_ignore  1 → as before")
        #expect(HostDiff.removal(Self.rs1Records[4]).text == "- web-server 80")
    }

    /// A host's answer read back: its record, the steps' outcomes, what it undid.
    @Test func hostOutputIsReadBack() {
        let output = HostOutput("""
            @@lvsctl-records
            sysctl-x-1/order:3
            sysctl-x-1/id:sysctl net.ipv4.conf.lo.arp_ignore
            sysctl-x-1/applied:1
            half-made/order:4
            @@lvsctl-records end
            @@lvsctl-cluster {"address":"10.0.0.11","name":"rs1"}
            @@lvsctl-held
            @@lvsctl-now 2 0
            @@lvsctl-step 2 changed 40
            @@lvsctl-step 3 failed 10
            @@lvsctl-err 3 RTNETLINK answers: File exists
            @@lvsctl-undo-id route-1 route 192.168.0.200/32
            @@lvsctl-undo route-1 restored 30
            """)
        #expect(output.records == [HostOutput.Record(key: "sysctl-x-1", order: 3, id: "sysctl net.ipv4.conf.lo.arp_ignore", applied: "1")])
        #expect(output.cluster == [#"{"address":"10.0.0.11","name":"rs1"}"#])
        #expect(output.steps[2] == HostOutput.Step(status: .changed, milliseconds: 40, was: nil, now: "0"))
        #expect(output.steps[3]?.output == ["RTNETLINK answers: File exists"])
        #expect(output.undos == [HostOutput.Undo(key: "route-1", id: "route 192.168.0.200/32", status: .restored, milliseconds: 30)])
    }
}
