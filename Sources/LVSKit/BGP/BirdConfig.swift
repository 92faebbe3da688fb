/// bird2's configuration for one active-active director: each VIP a static route that only bird
/// holds (there is no kernel protocol, so nothing reaches the director's own routing table),
/// announced to every peer. One static protocol per VIP, so that one VIP's announcement can be
/// withdrawn alone (`birdc disable lvsctl_vip0`) while the others stay.
public enum BirdConfig {
    /// Beside Debian's own bird.conf, which lvsctl leaves alone.
    public static let path = "/etc/bird/lvsctl.conf"
    /// The control socket, pid file and log of the bird lvsctl starts.
    public static let runDirectory = "/var/lib/lvsctl/bird"
    /// birdc on lvsctl's bird (keepalived's quorum scripts withdraw and announce a VIP with it).
    public static let birdc = "/usr/sbin/birdc -s \(runDirectory)/bird.ctl"
    /// The identity of the resource that runs it (its record, its line in a report).
    public static let resourceID = ResourceValue.bird(path: path, content: "").id
    /// BFD's intervals: a lost peer is declared down after three missed packets, 0.3 s (measured
    /// under software emulation: routes withdrawn 0.27 to 0.51 s after a director's link went down).
    static let bfdIntervalMilliseconds = 100
    static let bfdMultiplier = 3
    /// How soon a session that fell is tried again (bird's default is 120 s: a director whose
    /// link came back would stay out of the routers' ECMP for two minutes).
    static let connectRetrySeconds = 5

    /// `lvsctl_vip0`: the static protocol of the n-th IPv4 VIP.
    public static func protocolName(_ vip: VIPAddress) -> String { "lvsctl_vip\(vip.labelNumber ?? 0)" }
    /// `lvsctl_peer0`: the BGP session with the n-th peer of the inventory.
    public static func protocolName(peer index: Int) -> String { "lvsctl_peer\(index)" }

    /// What each protocol lvsctl names stands for, in the file's order: `VIP 192.168.0.200`,
    /// `peer 192.168.0.100 AS 65000`.
    public static func protocolMeanings(_ desired: DesiredCluster) -> [(name: String, meaning: String)] {
        let vips = desired.vips.filter { !$0.address.isV6 }.map { (protocolName($0), "VIP \($0.address)") }
        let peers = (desired.inventory.bgp?.peers ?? []).enumerated().map { (protocolName(peer: $0), "peer \($1.address) AS \($1.remoteAS)") }
        return vips + peers
    }

    /// keepalived's verdict on each health-gated VIP, as its table shows it, against bird's
    /// announcement: a script run with `check` (exit 1 when they differ) or `tell` (bird told
    /// the verdict). They can differ: `birdc configure` (bird's file changed, or someone ran it)
    /// enables every protocol the file enables, a VIP keepalived withdrew included, and a bird
    /// started after keepalived missed the quorum_down it ran. With `quorum 1` and every real
    /// server `inhibit_on_failure`, keepalived's quorum is down exactly when the service's
    /// weights in the kernel add up to 0. Empty when nothing is gated; a service the table
    /// lacks (keepalived has not made it yet) is left as it is.
    public static func gateReassertion(_ desired: DesiredCluster, director: Director) -> String {
        KeepalivedConfig.announcementGates(desired, director: director).map { gate in
            """
            w=$(\(IPVSAdm.destinationWeightSum(gate.service)))
            if [ -n "$w" ]; then
              if [ "$w" = 0 ]; then want=down; else want=up; fi
              if [ "$1" = check ]; then [ "$(\(protocolState(gate.protocol)))" = "$want" ] || exit 1
              elif [ $want = down ]; then \(birdc) disable \(gate.protocol) >/dev/null; else \(birdc) enable \(gate.protocol) >/dev/null; fi
            fi
            """
        }.joined(separator: "\n")
    }

    /// `up` or `down` (disabled): one protocol's state, from `birdc show protocols NAME`.
    static func protocolState(_ name: String) -> String {
        "\(birdc) show protocols \(name) 2>/dev/null | awk '$1 == \"\(name)\" { print $4 }'"
    }

    public static func file(_ desired: DesiredCluster, director: Director) -> String {
        let inventory = desired.inventory
        guard let bgp = inventory.bgp else { return "" }
        var lines = [director.drained
                     ? "# Written by lvsctl for director \(director.host), drained: its sessions stay up, it announces no VIP."
                     : "# Written by lvsctl for director \(director.host): announces the VIPs to the routers.",
                     "router id \(inventory.routerID(of: director));", "", "protocol device {", "}"]
        for vip in desired.vips where !vip.address.isV6 {
            lines += ["", "protocol static \(protocolName(vip)) {"] + (director.drained ? ["    disabled;"] : [])
                + ["    ipv4;", "    route \(vip.address)/32 blackhole;", "}"]
        }
        if bgp.bfd {
            lines += ["", "protocol bfd lvsctl_bfd {", "    interface \"*\" {",
                      "        min rx interval \(bfdIntervalMilliseconds) ms;", "        min tx interval \(bfdIntervalMilliseconds) ms;",
                      "        multiplier \(bfdMultiplier);", "    };", "}"]
        }
        for (index, peer) in bgp.peers.enumerated() {
            lines += ["", "protocol bgp \(protocolName(peer: index)) {",
                      "    description \"\(peer.address)\";",
                      "    local as \(bgp.localAS);",
                      "    neighbor \(peer.address) as \(peer.remoteAS);",
                      "    hold time \(bgp.holdSeconds);",
                      "    keepalive time \(bgp.keepaliveSeconds);",
                      "    connect retry time \(connectRetrySeconds);"]
            if bgp.bfd { lines.append("    bfd on;") }
            lines += ["    ipv4 {", "        import none;", "        export where proto ~ \"lvsctl_vip*\";", "    };", "}"]
        }
        return lines.joined(separator: "\n")
    }
}
