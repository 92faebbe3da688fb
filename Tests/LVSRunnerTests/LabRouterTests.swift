import LVSLab
import Testing

/// The lab router's config and how its route is read back (pure; the router itself runs in the
/// BGP tests: bird on a local lab host, and on the lab VM's client).
@Suite struct LabRouterTests {
    @Test func oneNeighbourPerDirectorWithBFDAndShortErrorWait() {
        let router = LabRouter(routerID: "192.168.0.100", directors: ["192.168.0.10", "192.168.0.11", "192.168.0.12"])
        let lines = router.config.split(separator: "\n")
        #expect(lines.first == "router id 192.168.0.100;")
        #expect(lines.filter { $0.hasPrefix("protocol bgp") } == [
            "protocol bgp d1 from director { neighbor 192.168.0.10 as 65001; }",
            "protocol bgp d2 from director { neighbor 192.168.0.11 as 65001; }",
            "protocol bgp d3 from director { neighbor 192.168.0.12 as 65001; }",
        ])
        #expect(lines.contains { $0.hasPrefix("template bgp director { local as 65000;") && $0.contains("error wait time 1, 5;") && $0.contains("bfd on;") })
        #expect(lines.contains { $0.hasPrefix("protocol bfd { interface \"*\" { min rx interval 100 ms;") })
        #expect(router.startScript.contains("bird -c /srv/router/bird.conf -s /srv/router/bird.ctl -P /srv/router/bird.pid"))
    }

    /// Without BFD (the loss bench's other half): no bfd protocol, the sessions say `bfd off`.
    @Test func withoutBFDOnlyTheHoldTimeTells() {
        let lines = LabRouter(routerID: "192.168.0.100", directors: ["192.168.0.10"], bfd: false).config.split(separator: "\n")
        #expect(lines == [
            "router id 192.168.0.100;",
            "protocol device { }",
            "protocol kernel { ipv4 { import none; export all; }; merge paths on; }",
            "template bgp director { local as 65000; hold time 3; keepalive time 1; connect retry time 1; error wait time 1, 5; bfd off; ipv4 { import all; export none; }; }",
            "protocol bgp d1 from director { neighbor 192.168.0.10 as 65001; }",
        ])
    }

    @Test(arguments: [
        ("", [String]()),
        ("192.168.0.200 via 192.168.0.10 dev eth0 proto bird metric 32 \n", ["192.168.0.10"]),
        ("192.168.0.200 proto bird metric 32 \n\tnexthop via 192.168.0.10 dev eth0 weight 1 \n\tnexthop via 192.168.0.11 dev eth0 weight 1 \n",
         ["192.168.0.10", "192.168.0.11"]),
        ("192.168.0.200 dev eth0 scope link\n", []),
    ])
    func nextHopsReadFromTheRoute(route: String, hops: [String]) {
        #expect(LabRouter.nextHops(route: route) == hops)
    }
}
