import Testing
@testable import LVSKit

/// What `verify` and `status` say of active-active directors: whether their tables agree (the
/// same Maglev table needs the same settings, weights and kernel order), their counters added,
/// and each one's bird, from what `birdc show protocols` printed.
struct ActiveActiveStatusTests {
    static let save = """
        -A -t 192.168.0.200:80 -s mh -b mh-fallback,mh-port
        -a -t 192.168.0.200:80 -r 10.0.0.13:80 -g -w 1
        -a -t 192.168.0.200:80 -r 10.0.0.12:80 -g -w 1
        -a -t 192.168.0.200:80 -r 10.0.0.11:80 -g -w 1
        """

    /// A director's table: `save`'s rules, listed in `order` (the thresholds listing), with
    /// `connections` new connections counted on each destination.
    static func table(_ save: String = save, order: [String] = ["13", "12", "11"], connections: Int = 0) -> IPVSTable {
        let listing = ["Prot LocalAddress:Port Uthreshold Lthreshold ActiveConn InActConn", "  -> RemoteAddress:Port",
                       "TCP  192.168.0.200:80 mh (mh-fallback,mh-port)"]
            + order.map { "  -> 10.0.0.\($0):80 0 0 \(connections) 0" }
        var table = IPVSAdm.table(save: save, thresholds: listing.joined(separator: "\n") + "\n")
        let key = table.services[0].key
        for endpoint in table.kernelOrder[key] ?? [] {
            table.destinationStats[key, default: [:]][endpoint] = IPVSStats(connections: connections, inPackets: 0, outPackets: 0, inBytes: 0, outBytes: 0)
        }
        return table
    }

    @Test(arguments: [
        ("alike", table(), true,
         "director, director2: scheduler mh (mh-fallback,mh-port), real servers in one order: 10.0.0.13:80 10.0.0.12:80 10.0.0.11:80"),
        ("another order", table(order: ["12", "13", "11"]), false,
         "director2: lists 10.0.0.12:80 10.0.0.13:80 10.0.0.11:80 (not 10.0.0.13:80 10.0.0.12:80 10.0.0.11:80) (against director)"),
        ("another weight", table(save.replacingOccurrences(of: "10.0.0.12:80 -g -w 1", with: "10.0.0.12:80 -g -w 0")), false,
         "director2: 10.0.0.12:80 weight 1 → 0 (against director)"),
        ("no mh-port", table(save.replacingOccurrences(of: "mh-fallback,mh-port", with: "mh-fallback")), false,
         "director2: flags mh-fallback,mh-port → mh-fallback (against director)"),
        ("a real server short", table(save.replacingOccurrences(of: "-a -t 192.168.0.200:80 -r 10.0.0.11:80 -g -w 1", with: ""), order: ["13", "12"]), false,
         "director2: lacks 10.0.0.11:80 (against director)"),
        ("no service", IPVSTable(), false, "director2 lacks it (against director)"),
    ] as [(String, IPVSTable, Bool, String)])
    func sameOnEveryDirector(_ name: String, _ second: IPVSTable, _ passed: Bool, _ detail: String) {
        let verdicts = TableJudge.sameOnEveryDirector([("director", Self.table()), ("director2", second)])
        #expect(verdicts.map(\.kind) == [.sameOnEveryDirector], "\(name)")
        #expect(verdicts.first?.passed == passed, "\(name)")
        #expect(verdicts.first?.detail == detail, "\(name)")
    }

    /// Each director counts what the routers sent it: verify and status add them up.
    @Test func countersAreAdded() throws {
        let sum = try #require(IPVSTable.summingCounters([Self.table(connections: 2), Self.table(connections: 3)]))
        let key = sum.services[0].key
        #expect(sum.services == Self.table().services)
        #expect(sum.destinationStats[key]?.values.map(\.connections) == [5, 5, 5])
        #expect(sum.connections[key]?.values.map(\.active) == [5, 5, 5])
        #expect(IPVSTable.summingCounters([]) == nil)
    }

    static let meanings = [("lvsctl_vip0", "VIP 192.168.0.200"), ("lvsctl_peer0", "peer 192.168.0.100 AS 65000")]

    @Test func birdAnnouncing() {
        let state = BirdState.parse("""
            BIRD 2.0.12 ready.
            Name       Proto      Table      State  Since         Info
            device1    Device     ---        up     13:47:12.144
            lvsctl_vip0 Static     master4    up     13:47:12.144
            lvsctl_bfd BFD        ---        up     13:47:12.144
            lvsctl_peer0 BGP        ---        up     13:47:15.310  Established
            """, host: "director")
        #expect(state.error == nil && state.established)
        #expect(state.lines(Self.meanings) == [
            "  director: bird running, announcing",
            "    VIP 192.168.0.200              announced  since 13:47:12.144",
            "    peer 192.168.0.100 AS 65000    Established  since 13:47:15.310",
        ])
    }

    @Test func birdWithoutSessionOrWithdrawn() {
        let state = BirdState.parse("""
            BIRD 2.0.12 ready.
            Name       Proto      Table      State  Since         Info
            lvsctl_vip0 Static     master4    down   13:50:01.000
            lvsctl_peer0 BGP        ---        start  13:47:12.147  Active        Socket: Connection refused
            """, host: "director2")
        #expect(!state.established)
        #expect(state.lines(Self.meanings) == [
            "  director2: bird running, announcing to no router (no session established)",
            "    VIP 192.168.0.200              withdrawn (down)  since 13:50:01.000",
            "    peer 192.168.0.100 AS 65000    Active Socket: Connection refused  since 13:47:12.147",
        ])
    }

    @Test func birdNotRunning() {
        let state = BirdState.parse("Unable to connect to server control socket (/var/lib/lvsctl/bird/bird.ctl): No such file or directory\n@@lvsctl-bird-unreachable\n",
                                    host: "director3")
        #expect(state.lines(Self.meanings) == [
            "  director3: bird: Unable to connect to server control socket (/var/lib/lvsctl/bird/bird.ctl): No such file or directory",
        ])
    }

    /// The names bird.conf gives its protocols, and what each stands for.
    @Test func protocolMeanings() throws {
        let inventory = try loadInventory("active-active.yml")
        let meanings = BirdConfig.protocolMeanings(DesiredCluster(inventory))
        #expect(meanings.map(\.name) == ["lvsctl_vip0", "lvsctl_peer0"])
        #expect(meanings.map(\.meaning) == ["VIP 192.168.0.200", "peer 192.168.0.100 AS 65000"].map {
            $0.replacingOccurrences(of: "192.168.0.100", with: "192.168.0.254")
        })
    }
}
