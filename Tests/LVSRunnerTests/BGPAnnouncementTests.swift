import Foundation
import LVSKit
import LVSLab
import LVSRunner
import Testing

/// Active-active directors' announcements on real hosts (lab hosts with their own sshd, no IPVS
/// kernel needed): the bird step lvsctl renders for each director, run by `up` and `down`,
/// against a router running bird that merges the paths, as a site's router would.
struct BGPAnnouncementTests {
    /// host1 the router (AS 65000), host2 and host3 directors (AS 65001), host4 a real server.
    static func inventory(_ lab: Lab) -> String {
        """
        \(labHosts(lab))
        cluster:
          mode: dr
          directors:
            - { host: host2, interface: eth0, dip: \(lab["host2"].address)/24 }
            - { host: host3, interface: eth0, dip: \(lab["host3"].address)/24 }
          bgp:
            as: 65001
            peers: [{ address: \(lab["host1"].address), as: 65000 }]
            hold_time: 3
            bfd: true
          services:
            - { vip: \(vip(lab)), port: 80, scheduler: mh, flags: [mh-port, mh-fallback], real_servers: [host4] }
        """
    }

    static func vip(_ lab: Lab) -> String { "10.200.\(lab.index).100" }

    /// The router's side: bird with both directors as neighbours, installing what it learns into
    /// the kernel as one multipath route.
    static func startRouter(_ lab: Lab) async throws {
        let router = LabRouter(routerID: lab["host1"].address, directors: [lab["host2"].address, lab["host3"].address])
        let started = try await lab.shell(on: lab["host1"], router.startScript)
        #expect(started.succeeded, "\(started.stderr)")
    }

    /// How many next hops the router's route to the VIP has, once it settles on `expected`
    /// (at most 15 s: a session is up within a few keepalives).
    static func nextHops(_ lab: Lab, expected: Int) async throws -> Int {
        let result = try await lab.shell(on: lab["host1"], """
            count() { r=$(ip route show \(vip(lab))/32); if [ -z "$r" ]; then echo 0; else n=$(printf '%s\\n' "$r" | grep -c nexthop); [ "$n" = 0 ] && n=1; echo $n; fi; }
            for i in $(seq 1 150); do [ "$(count)" = \(expected) ] && break; sleep 0.1; done; count
            """)
        return Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test func directorsAnnounceTheVIPAndWithdrawItOnDown() async throws {
        try await Lab.with(hosts: 4) { lab in
            let file = "\(lab.directory)/active-active.yml"
            let text = Self.inventory(lab)
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let inventory = try InventoryParser.parse(text, file: file).get()
            // Only the announcement: this machine's kernel has no IPVS for the rest of a director.
            let states = try DesiredStateBuilder(library: PlaybookLibrary.load(from: repositoryRoot)).hosts(inventory)
                .filter { $0.roles.contains(.director) }
                .map { HostState(host: $0.host, roles: [.realServer], resources: $0.resources.filter { $0.id.kind == "bird" || $0.id.description == "package bird" }) }
            #expect(states.map { $0.resources.map(\.id.description) } == Array(repeating: ["package bird", "bird /etc/bird/lvsctl.conf"], count: 2))
            let runner = ClusterRunner(access: HostAccess(knownHostsFiles: [lab.knownHostsFile]).knowing(inventory))
            // Its files, and the bird processes in its own network namespace (the hosts share one
            // PID namespace, where the router's bird runs too).
            let snapshot = """
                find /etc/bird /var/lib/lvsctl -xdev | sort
                for p in $(pgrep -x bird); do [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ] && echo "bird $p"; done; true
                """
            let before = try await (lab.shell(on: lab["host2"], snapshot).stdout, lab.shell(on: lab["host3"], snapshot).stdout)
            try await Self.startRouter(lab)

            let up = await runner.run(.up, cluster: states, inventory: inventory)
            #expect(up.exitCode == 0, "\(up.text)\n\(failures(up))")
            #expect(try await Self.nextHops(lab, expected: 2) == 2, "the router has a path through each director")
            let running = try await lab.shell(on: lab["host2"], snapshot).stdout
            #expect(running.contains("/etc/bird/lvsctl.conf\n") && running.contains("\nbird "), "\(running)")
            let again = await runner.run(.up, cluster: states, inventory: inventory)
            #expect(again.hosts.allSatisfy { $0.changes.isEmpty }, "a second up changes nothing: \(again.text)")

            // One director leaves: its bird stops and the router drops its path at once.
            #expect(await runner.run(.down, cluster: states, only: ["host3"], inventory: inventory).exitCode == 0)
            #expect(try await Self.nextHops(lab, expected: 1) == 1)
            #expect(await runner.run(.down, cluster: states, inventory: inventory).exitCode == 0)
            #expect(try await Self.nextHops(lab, expected: 0) == 0, "no director announces the VIP any more")
            let after = try await (lab.shell(on: lab["host2"], snapshot).stdout, lab.shell(on: lab["host3"], snapshot).stdout)
            #expect(after == before)
            _ = try await lab.shell(on: lab["host1"], "kill $(cat /srv/router/bird.pid); rm -rf /srv/router")
        }
    }
}
