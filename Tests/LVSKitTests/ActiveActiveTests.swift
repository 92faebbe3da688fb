import Foundation
import Testing
@testable import LVSKit

/// Active-active directors (`bgp:`): the rules that keep every director's hash equal, the exact
/// bird2 configuration, bird's own parser on it, and what each director is given.
struct ActiveActiveTests {
    static let inventory = try! String(contentsOfFile: "\(repositoryRoot)/inventories/active-active.yml", encoding: .utf8)

    @Test func exampleIsValid() { #expect(InventoryValidationTests.problems(Self.inventory) == []) }

    /// One change to the example, and exactly what it must produce.
    @Test(arguments: [
        ("NAT", "  mode: dr\n", "  mode: nat\n",
         ["23:5: NAT cannot run on active-active directors: a NAT director must see the replies of the connections it forwards, and the routers' ECMP would not bring them back to it. Use mode dr or tun with bgp"]),
        ("a scheduler other than mh", "scheduler: mh\n      flags: [mh-port, mh-fallback]", "scheduler: wrr\n      x-flags: []",  // x-: a key lvsctl ignores
         ["29:7: service 192.168.0.200:80/tcp uses scheduler wrr: active-active directors must each send a flow to the same real server, which only mh (Maglev hashing, the same table on every director) does. Set scheduler: mh and flags: [mh-port, mh-fallback]"]),
        ("mh without mh-port", "flags: [mh-port, mh-fallback]", "flags: [mh-fallback]",
         ["29:7: service 192.168.0.200:80/tcp hashes the client's address only: every connection of one client would land on one real server. Add mh-port to its flags: [mh-port, mh-fallback]"]),
        ("a drain without mh-fallback", "mh-fallback]   # spread one client's connections; move a drained server's flows\n      real_servers: [rs1, rs2, rs3]",
         "mh-port]\n      real_servers: [rs1, { host: rs2, weight: 0 }, rs3]",
         ["33:27: real server 'rs2' has weight 0 in service 192.168.0.200:80/tcp, whose mh has no mh-fallback: the flows its hash gives that server would be dropped, not moved. Add mh-fallback to the service's flags"]),
        ("a peer that is a director", "address: 192.168.0.254", "address: 192.168.0.11",
         ["25:9: BGP peer 192.168.0.11 is director 'director2': a peer is a router the directors announce to, not one of them. Give the router's address"]),
        ("router ids that clash", "router_id: 192.168.0.12 }", "router_id: 192.168.0.10 }",
         ["21:7: directors 'director' and 'director3' would both use BGP router id 192.168.0.10: give one of them its own, router_id: ADDRESS"]),
        ("no peers", "    peers:\n      - { address: 192.168.0.254, as: 65000 }", "    peers: []",
         ["24:12: 'bgp' needs the routers to announce the VIPs to: add peers: [{ address: ROUTER, as: ITS_AS }]"]),
        ("an AS beyond four bytes", "as: 65001 ", "as: 4294967296 ",
         ["23:9: as 4294967296 is out of range: it must be a whole number from 1 to 4294967295"]),
        ("every director drained", ", router_id: 192.168.0.", ", drain: true, router_id: 192.168.0.",
         ["21:7: every director has drain: true: nothing would announce the VIPs and the routers would drop their traffic. Keep at least one director in service"]),
        ("vrrp beside bgp", "  bgp:\n", "  vrrp: { router_id: 51 }\n  bgp:\n",
         ["22:9: give either 'vrrp' (a pair: one director active, the other waiting) or 'bgp' (every director active behind the routers' ECMP), not both"]),
        ("an IPv6 VIP", "vip: 192.168.0.200", "vip: \"fd00:1::200\"",
         ["29:7: VIP fd00:1::200 is IPv6: active-active directors announce IPv4 VIPs only (lvsctl does not set up IPv6 BGP sessions yet). Use an IPv4 VIP here, or a keepalived pair",
          "33:22: VIP fd00:1::200 and RIP 10.0.0.11 are of different address families: use IPv4 for both or IPv6 for both",
          "33:27: VIP fd00:1::200 and RIP 10.0.0.12 are of different address families: use IPv4 for both or IPv6 for both",
          "33:32: VIP fd00:1::200 and RIP 10.0.0.13 are of different address families: use IPv4 for both or IPv6 for both"]),
    ] as [(String, String, String, [String])])
    func rule(_ name: String, _ from: String, _ to: String, _ expected: [String]) {
        let text = Self.inventory.replacingOccurrences(of: from, with: to)
        #expect(text != Self.inventory, "\(name): the case must change the inventory")
        #expect(InventoryValidationTests.problems(text) == expected, "\(name)")
    }

    /// `drain` takes an active-active director out of the routers' ECMP: on a lone director or a
    /// keepalived pair it means nothing, and is refused rather than ignored.
    @Test func drainNeedsBGP() {
        let text = """
            hosts: { lb: 10.0.0.1, rs1: 10.0.0.11 }
            cluster:
              mode: dr
              director: { host: lb, dip: 10.0.0.1/24, drain: true }
              services:
                - { vip: 192.168.0.200, port: 80, real_servers: [rs1] }
            """
        #expect(InventoryValidationTests.problems(text) == [
            "4:13: director 'lb' has drain: true, which takes an active-active director out of the routers' ECMP; without bgp there is nothing to withdraw. Remove drain, or make the directors active-active with a bgp block",
        ])
    }

    /// director2's bird.conf, exactly: its own router id, the VIP a static route only bird holds,
    /// BFD, and the one peer exporting just the VIPs.
    @Test func exactBirdConfiguration() throws {
        let inventory = try loadInventory("active-active.yml")
        let config = BirdConfig.file(DesiredCluster(inventory), director: inventory.directors[1])
        #expect(config == """
            # Written by lvsctl for director director2: announces the VIPs to the routers.
            router id 192.168.0.11;

            protocol device {
            }

            protocol static lvsctl_vip0 {
                ipv4;
                route 192.168.0.200/32 blackhole;
            }

            protocol bfd lvsctl_bfd {
                interface "*" {
                    min rx interval 100 ms;
                    min tx interval 100 ms;
                    multiplier 3;
                };
            }

            protocol bgp lvsctl_peer0 {
                description "192.168.0.254";
                local as 65001;
                neighbor 192.168.0.254 as 65000;
                hold time 3;
                keepalive time 1;
                connect retry time 5;
                bfd on;
                ipv4 {
                    import none;
                    export where proto ~ "lvsctl_vip*";
                };
            }
            """)
    }

    /// bird's own parser (`bird -p`, what the template runs before replacing the file) accepts
    /// every configuration lvsctl renders: with and without BFD, two peers, two VIPs.
    @Test func birdAcceptsEveryRenderedFile() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/sbin/bird"), "bird2 is installed by scripts/bootstrap")
        var inventory = try loadInventory("active-active.yml")
        var second = inventory.services[0]
        second.vip = try IPAddress.parse("192.168.0.201").get()
        second.address = .socket(.tcp, second.vip, port: 443)
        inventory.services.append(second)
        inventory.bgp?.peers.append(BGPPeer(address: try IPAddress.parse("192.168.0.253").get(), remoteAS: 65002, location: inventory.director.location))
        var plain = inventory
        plain.bgp?.bfd = false
        plain.bgp?.holdSeconds = 90
        plain.standbyDirectors[0].drained = true
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lvsctl-bird-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (name, each) in [("bfd", inventory), ("plain", plain)] {
            for director in each.directors {
                let path = "\(folder)/\(name)-\(director.host).conf"
                let text = BirdConfig.file(DesiredCluster(each), director: director)
                try (text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
                let parse = try await runShell("/usr/sbin/bird -p -c '\(path)' 2>&1")
                #expect(parse.status == 0, "bird -p \(path): \(parse.output)")
                #expect(text.contains("route 192.168.0.201/32 blackhole;") && text.contains("protocol bgp lvsctl_peer1 {"))
                #expect(text.contains("disabled;") == director.drained)
            }
        }
    }

    /// Every director gets the same IPVS table (mh with both flags), the VIP on lo with no host
    /// route (no director answers ARP for it), sloppy TCP, and bird with its own router id; no
    /// keepalived (no VRRP, no health check).
    @Test func everyDirectorIsAFullDirector() throws {
        let inventory = try loadInventory("active-active.yml")
        let states = try render(inventory).filter { $0.roles.contains(.director) }
        #expect(states.map(\.host.name) == ["director", "director2", "director3"])
        let tables = states.map(\.ipvsServices)
        #expect(tables.allSatisfy { $0 == tables[0] } && tables[0].count == 1)
        #expect(tables[0].first?.schedulerFlags == "mh-fallback,mh-port")
        for state in states {
            let ids = state.resources.map(\.id.description)
            #expect(ids.contains("address lo 192.168.0.200/32"), "\(ids)")
            #expect(ids.contains("sysctl net.ipv4.vs.sloppy_tcp"), "\(ids)")
            #expect(ids.contains("bird /etc/bird/lvsctl.conf"), "\(ids)")
            #expect(!ids.contains { $0.hasPrefix("route ") || $0.hasPrefix("keepalived") || $0.hasPrefix("address eth0") }, "\(ids)")
            let bird = state.resources.compactMap { if case let .bird(_, content) = $0.value { return content }; return nil }.first ?? ""
            #expect(bird.contains("router id \(inventory.routerID(of: try #require(inventory.director(named: state.host.name))));"))
        }
    }

    /// A director announces only what it can answer: bird starts in the part after the IPVS
    /// changes (a joining director's first part would otherwise draw flows to an empty table,
    /// which its own stack resets), with or without keepalived making the table; keepalived
    /// too waits for that part, where its file can follow the peers' order.
    @Test(arguments: [false, true]) func birdStartsOnlyOnceTheTableIsMade(healthChecked: Bool) throws {
        var text = Self.inventory
        if healthChecked {
            text = text.replacingOccurrences(of: "      real_servers: [rs1", with: "      health_check: { type: tcp }\n      real_servers: [rs1")
            #expect(text != Self.inventory)
        }
        let state = try #require(try render(InventoryParser.parse(text, file: "active-active.yml").get()).first)
        let opening = UpScript.directorOpening(state, owner: "up", lockWait: 0)
        #expect(!opening.contains("bird -c") && !opening.contains("keepalived -n"))
        let second = UpScript.directorChanges(state, steps: HostDiff.ipvs(desired: state.ipvsServices, live: IPVSTable(), records: []).steps,
                                              live: IPVSTable(), unwanted: [], members: []) + UpScript.directorAfterDrains(state)
        let made = try #require(second.range(of: healthChecked ? "keepalived -t" : "ipvsadm -R"))
        let announced = try #require(second.range(of: "bird -c"))
        #expect(made.lowerBound < announced.lowerBound)
    }
}
