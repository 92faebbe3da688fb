import Foundation

/// The routers' side of active-active directors, in a lab: bird on one lab host with every
/// director as a BGP neighbour (BFD on unless asked), installing what they announce as one
/// multipath route hashed on the 5-tuple (`fib_multipath_hash_policy` 1, put back on stop). What
/// an operator's routers do in front of a real cluster; lvsctl never provisions it.
public struct LabRouter: Sendable, Equatable {
    public var folder = "/srv/router"
    public var routerID: String
    /// The directors' addresses on the router's network, one BGP neighbour each.
    public var directors: [String]
    public var localAS = 65000
    public var directorAS = 65001
    /// BFD with every director (off: only BGP's hold time tells a lost director).
    public var bfd: Bool

    public init(routerID: String, directors: [String], bfd: Bool = true) {
        self.routerID = routerID
        self.directors = directors
        self.bfd = bfd
    }

    /// bird's control socket, for `birdc -s`.
    public var socket: String { "\(folder)/bird.ctl" }

    /// bird.conf. Timers short as a lab wants them (hold 3 s, BFD 3 × 100 ms); `error wait time
    /// 1, 5`: bird's default (60 s after a BFD failure) would keep a returning director out of
    /// the route for a minute.
    public var config: String {
        let neighbours = directors.enumerated().map { index, address in
            "protocol bgp d\(index + 1) from director { neighbor \(address) as \(directorAS); }"
        }
        return """
        router id \(routerID);
        protocol device { }
        protocol kernel { ipv4 { import none; export all; }; merge paths on; }
        \(bfd ? "protocol bfd { interface \"*\" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }\n" : "")\
        template bgp director { local as \(localAS); hold time 3; keepalive time 1; connect retry time 1; error wait time 1, 5; bfd \(bfd ? "on" : "off"); ipv4 { import all; export none; }; }
        \(neighbours.joined(separator: "\n"))

        """
    }

    /// Shell (as root on the router host): writes the config, keeps the hash policy to put back,
    /// starts bird. Refuses when a router already runs there.
    public var startScript: String {
        """
        if [ -e \(folder)/bird.pid ]; then echo "a lab router already runs ($(cat \(folder)/bird.pid)); stop it first" >&2; exit 1; fi
        mkdir -p \(folder) && cat > \(folder)/bird.conf <<'EOF'
        \(config)EOF
        read -r policy < /proc/sys/net/ipv4/fib_multipath_hash_policy; echo "$policy" > \(folder)/policy
        echo 1 > /proc/sys/net/ipv4/fib_multipath_hash_policy
        bird -c \(folder)/bird.conf -s \(socket) -P \(folder)/bird.pid
        """
    }

    /// Shell: stops bird by its PID (its routes go with it), puts the hash policy back, removes
    /// the folder.
    public var stopScript: String {
        """
        [ -e \(folder)/bird.pid ] || { echo "no lab router runs here" >&2; exit 1; }
        kill "$(cat \(folder)/bird.pid)"; cat \(folder)/policy > /proc/sys/net/ipv4/fib_multipath_hash_policy; rm -rf \(folder)
        """
    }

    /// The command whose output `nextHops(route:)` reads.
    public static func routeCommand(vip: String) -> String { "ip route show \(vip)/32" }

    /// The next hops of `ip route show VIP/32`: one line `… via A dev …` for a single path, or
    /// `nexthop via A dev …` lines for several.
    public static func nextHops(route: String) -> [String] {
        route.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            return words.firstIndex(of: "via").flatMap { $0 + 1 < words.count ? String(words[$0 + 1]) : nil }
        }
    }
}

extension VMLab {
    /// bird on the client, the directors as its neighbours.
    public func router(bfd: Bool = true) -> LabRouter {
        LabRouter(routerID: address(of: "client"), directors: Self.activeActiveDirectors.map { address(of: $0) }, bfd: bfd)
    }

    /// The lab hosts that can be active-active directors; the router peers with all of them (an
    /// absent one's session just waits).
    public static let activeActiveDirectors = ["director", "director2", "director3", "director4"]

    /// The active-active cluster the lab's router fronts: director and `moreDirectors`
    /// announcing the VIP over BGP (hold 3 s, BFD unless `bfd` is false), the same Maglev table
    /// on each (`mh` with the port hashed, so one client's connections spread over the real
    /// servers). `settings` adds lines to the service (a health check…).
    public func ecmpInventory(servers: [String]? = nil, weights: [String: Int] = [:], moreDirectors: [String] = ["director2"],
                              settings: [String] = [], bfd: Bool = true) -> String {
        let router = self.router()
        let text = inventory(mode: "dr", scheduler: "mh", servers: servers, weights: weights, settings: ["flags: [mh-port, mh-fallback]"] + settings,
                         bgp: "{ as: \(router.directorAS), peers: [{ address: \(router.routerID), as: \(router.localAS) }], hold_time: 3, bfd: \(bfd) }",
                         moreDirectors: moreDirectors)
        let header = """
            # Written by `lvsctl lab up`: active-active DR directors behind the client's router.
            #   lvsctl lab router && lvsctl up -i \(folder)/lab-ecmp.yml && lvsctl verify -i \(folder)/lab-ecmp.yml
            """
        return header + "\n" + text.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false)[2]
    }
}

extension VMLab {
    public func startRouter(bfd: Bool = true) async throws {
        _ = try await runChecked("client", router(bfd: bfd).startScript, what: "starting the lab router")
    }
    public func stopRouter() async throws { _ = try await runChecked("client", router().stopScript, what: "stopping the lab router") }

    /// The router's next hops to the VIP now.
    public func nextHops(vip: String = LabScenario.vip) async throws -> [String] {
        LabRouter.nextHops(route: try await run("client", LabRouter.routeCommand(vip: vip)))
    }
}
