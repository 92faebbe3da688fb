import Foundation
import LVSRunner
import Testing
@testable import LVSKit

/// keepalived's side of an inventory: the pair's rules, the exact keepalived.conf, and the desired
/// state of a cluster keepalived runs.
struct KeepalivedTests {
    static func problems(_ text: String) -> [String] { InventoryValidationTests.problems(text) }

    static let pair = try! String(contentsOfFile: "\(repositoryRoot)/inventories/ha-dr.yml", encoding: .utf8)

    @Test func pairIsValid() { #expect(Self.problems(Self.pair) == []) }

    /// One change to the pair's inventory, and exactly what it must produce.
    @Test(arguments: [
        ("priorities that tie", "dip: 10.0.0.2/24, priority: 100", "dip: 10.0.0.2/24, priority: 150",
         ["16:7: directors 'director' and 'director2' both have VRRP priority 150: give each its own (the highest is master)"]),
        ("a VRID outside 1-255", "router_id: 51 ", "router_id: 300 ",
         ["18:16: router_id 300 is out of range: it must be a whole number from 1 to 255"]),
        ("a fractional advert interval with VRRPv2", "advert_int: 1 ", "advert_int: 0.5 ",
         ["19:17: advert_int '0.5' is not one keepalived accepts with VRRPv2: give whole seconds from 1 to 255, or set version: 3 for steps of 0.01 s"]),
        ("an advert interval below VRRPv3's 10 ms", "advert_int: 1 ", "version: 3\n    advert_int: 0.001 ",
         ["20:17: advert_int '0.001' is not one keepalived accepts with VRRPv3: give seconds from 0.01 to 40.95 in steps of 0.01",
          "22:11: VRRPv3 has no authentication (RFC 5798 removed it): remove 'auth' or use version: 2"]),
        ("authentication with VRRPv3", "advert_int: 1 ", "version: 3\n    advert_int: 1 ",
         ["22:11: VRRPv3 has no authentication (RFC 5798 removed it): remove 'auth' or use version: 2"]),
        ("a password keepalived would cut", "auth: lvs-lab ", "auth: much-too-long ",
         ["21:11: auth 'much-too-long' is not allowed: VRRP's password is 1-8 letters, digits, '_', '.', '+' or '-'"]),
        ("a sorry server that is also a real server", "sorry_server: { host: sorry }", "sorry_server: { host: rs2 }",
         ["36:21: sorry server 'rs2' is also a real server of this service: keepalived would use it for both; give the sorry server a host of its own"]),
        ("directors on different L2 segments", "dip: 10.0.0.2/24, priority: 100", "dip: 10.0.1.2/24, priority: 100",
         ["16:7: director 'director2' is not in director 'director''s network 10.0.0.0/24: in DR the directors and real servers must share one layer-2 network, so the VIP can move. Fix the DIPs or their prefixes"]),
        ("two directors without vrrp", "  vrrp:\n", "  x-vrrp:\n",
         ["16:7: 2 directors need 'vrrp' under 'cluster' (at least router_id: 1-255) so keepalived can decide which one holds the VIP"]),
        ("director and directors", "  directors:\n", "  director: { host: director }\n  directors:\n",
         ["14:3: give either 'director' (one) or 'directors' (a keepalived pair), not both: move this director into the 'directors' list"]),
        ("a health check on a fwmark service without a port", "      port: 80\n", "      fwmark: 3\n      ports: [80]\n",
         ["29:9: firewall-mark service 3 has no port of its own to check: add port: N under health_check"]),
        ("an http-only key on a tcp check", "type: http ", "type: tcp ",
         ["29:9: 'path' only applies to an http health check: remove it, or set type: http",
          "30:9: 'status' only applies to an http health check: remove it, or set type: http",
          "31:9: 'text' only applies to an http health check: remove it, or set type: http"]),
        ("a body text with a quote", "text: I am ", "text: I \"am\" ",
         ["31:15: text 'I \"am\"' is not allowed: up to 200 letters, digits, spaces and punctuation, without quotes or backslashes"]),
        ("a sorry server that is the VIP", "sorry_server: { host: sorry }", "sorry_server: { host: sorry, rip: 192.168.0.200 }", ["36:21: the sorry server 192.168.0.200 is the VIP itself: the director would send the clients back to itself. Give the address of a host that serves the sorry page"]),
        ("a DR sorry server on another network", "  sorry: 10.0.0.13", "  sorry: 10.0.9.13", ["36:21: the sorry server 10.0.9.13 is not in the director's network 10.0.0.0/24: in DR the director reaches it as it reaches a real server, on their shared layer-2 network. Give a host on 10.0.0.0/24, or use NAT"]),
        ("a DR sorry server on another port", "sorry_server: { host: sorry }", "sorry_server: { host: sorry, port: 8080 }", ["36:21: the sorry server's port 8080 differs from the service's port 80: DR cannot map ports. Serve the sorry page on port 80, or use NAT"]),
        ("an HTTP check on a UDP service", "      port: 80\n", "      port: 53\n      protocol: udp\n", ["29:9: an HTTP health check cannot check UDP service 192.168.0.200:53/udp: HTTP runs over TCP. Use 'type: none', or check a TCP port the real servers open with 'type: tcp' and 'port'"]),
        ("two directors with one DIP", "dip: 10.0.0.2/24, priority: 100", "dip: 10.0.0.1/24, priority: 100", ["16:7: DIP 10.0.0.1 is also the DIP of director 'director': each director needs an address of its own on the real servers' network"]),
        ("NAT pair without a gateway", "  mode: dr\n", "  mode: nat\n",
         ["18:5: NAT with two directors needs a gateway address the master holds (the real servers route their replies through it): add gateway: ADDRESS/PREFIX under vrrp, in the DIPs' network and used by no host"]),
    ])
    func rule(_ name: String, _ from: String, _ to: String, _ expected: [String]) {
        let text = Self.pair.replacingOccurrences(of: from, with: to)
        #expect(text != Self.pair, "the case must change the inventory")
        #expect(Self.problems(text) == expected, "\(name)")
    }

    /// A NAT pair's gateway that a host already has: a director's DIP, a real server's RIP.
    @Test(arguments: [("10.0.0.1", "the DIP of director 'director'"), ("10.0.0.12", "the RIP of real server 'rs2'")])
    func natGatewayTaken(_ gateway: String, _ holder: String) {
        let text = Self.pair.replacingOccurrences(of: "  mode: dr\n", with: "  mode: nat\n")
            .replacingOccurrences(of: "    router_id: 51 ", with: "    gateway: \(gateway)/24\n    router_id: 51 ")
        #expect(Self.problems(text) == ["18:5: the NAT gateway \(gateway) is already \(holder): the gateway is the address the directors share for the real servers' replies; give it a free address of the DIP network"])
    }

    /// `keepalived -t` accepts every file lvsctl renders (warnings fail it too), run in a network
    /// namespace that has the directors' interfaces (an unknown interface fails the test).
    @Test func keepalivedAcceptsEveryRenderedFile() async throws {
        let pair = try loadInventory("ha-dr.yml")
        var kinds = pair
        kinds.vrrp?.version = 3
        kinds.vrrp?.password = nil
        kinds.vrrp?.advertCentiseconds = 5
        kinds.services[0].healthCheck?.kind = .tcp
        kinds.services[0].healthCheck?.inhibitOnFailure = true
        kinds.services[0].persistence = 30
        kinds.services[0].persistenceNetmask = 24
        kinds.services[0].realServers[0].upperThreshold = 5
        kinds.services[0].scheduler = .mh
        kinds.services[0].schedulerFlags = [.fallback, .port]
        var single = pair
        single.standbyDirectors = []
        single.vrrp = nil
        single.services[0].healthCheck?.kind = .none
        guard case let .success(nat) = InventoryParser.parse(Self.pair.replacingOccurrences(of: "  mode: dr\n", with: "  mode: nat\n")
            .replacingOccurrences(of: "sync: true ", with: "sync: true\n    gateway: 10.0.0.3/24 "), file: "nat.yml") else {
            Issue.record("NAT pair invalid"); return
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lvsctl-kt-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var files: [String] = []
        // Active-active with a health check: keepalived owns the table, its quorum scripts run birdc.
        var ecmp = try loadInventory("active-active.yml")
        ecmp.services[0].healthCheck = pair.services[0].healthCheck
        for (name, inventory) in [("pair", pair), ("kinds", kinds), ("single", single), ("nat", nat), ("ecmp", ecmp)] {
            for director in inventory.directors {
                let path = "\(folder)/\(name)-\(director.host).conf"
                try (KeepalivedConfig.file(DesiredCluster(inventory), director: director) + "\n").write(toFile: path, atomically: true, encoding: .utf8)
                files.append(path)
            }
        }
        let namespace = "lvsctl-kt-\(getpid())"
        let script = """
            set -e
            ip netns add \(namespace)
            trap 'ip netns delete \(namespace)' EXIT
            ip -n \(namespace) link add eth0 type veth peer name eth1
            ip -n \(namespace) link set eth0 up; ip -n \(namespace) link set eth1 up
            for f in \(files.joined(separator: " ")); do
              if out=$(ip netns exec \(namespace) keepalived -t -f "$f" 2>&1); then echo "ok $f"; else echo "REFUSED $f: $out"; fi
            done
            """
        let result = try await LocalProgram.run("/bin/bash", ["-c", script])
        #expect(result.succeeded, "\(result.output)\(result.errors)")
        #expect(result.output.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count == files.count, "\(result.output)\(result.errors)")
    }

    /// A real server block of ha-dr.yml's service: the same checker for each.
    static func checked(_ rip: String) -> String {
        """
            real_server \(rip) 80 {
                weight 1
                HTTP_GET {
                    url {
                        path /
                        status_code 200
                        regex "I am"
                    }
                    connect_timeout 1
                    retry 1
                    delay_before_retry 1
                }
            }
        """
    }

    @Test func exactConfigurationOfTheBackup() throws {
        let inventory = try loadInventory("ha-dr.yml")
        let config = KeepalivedConfig.file(DesiredCluster(inventory), director: inventory.directors[1])
        let checked = Self.checked
        #expect(config == """
        # Written by lvsctl from \(inventory.file): `lvsctl up` rewrites it, `lvsctl down` restores what was here.
        global_defs {
            router_id director2
            lvs_sync_daemon eth1 lvsctl id 51
        }
        vrrp_instance lvsctl {
            state BACKUP
            interface eth0
            virtual_router_id 51
            priority 100
            advert_int 1
            authentication {
                auth_type PASS
                auth_pass lvs-lab
            }
            virtual_ipaddress {
                192.168.0.200/32 dev eth0 label eth0:0
            }
        }
        virtual_server 192.168.0.200 80 {
            delay_loop 2
            lvs_sched rr
            lvs_method DR
            protocol TCP
            sorry_server 10.0.0.13 80
        \(checked("10.0.0.11"))
        \(checked("10.0.0.12"))
        }
        """)
    }

    /// The same settings an ipvsadm cluster gets, in keepalived's words: thresholds, persistence
    /// granularity, an IPv6 firewall mark checked on a port, UDP, weight 0 while down, VRRPv3 at 50 ms.
    @Test func everyServiceKindInKeepalivedsWords() throws {
        var inventory = try loadInventory("ha-dr.yml")
        inventory.vrrp?.version = 3
        inventory.vrrp?.password = nil
        inventory.vrrp?.advertCentiseconds = 5
        inventory.vrrp?.preempt = false
        var service = inventory.services[0]
        service.realServers[0].upperThreshold = 5
        service.realServers[0].lowerThreshold = 2
        service.persistence = 30
        service.persistenceNetmask = 24
        service.sorryServer = nil
        service.healthCheck?.kind = .tcp
        service.healthCheck?.inhibitOnFailure = true
        var mark = service
        mark.vip = try IPAddress.parse("fd00:1::200").get()
        mark.address = .firewallMark(7)
        mark.markProtocol = .udp
        mark.markPorts = [53]
        mark.persistenceNetmask = 64
        mark.healthCheck?.port = 53
        mark.realServers = [RealServer(host: "rs1", rip: try IPAddress.parse("fd00:2::11").get(), port: 0, location: service.location)]
        inventory.services = [service, mark]
        let config = KeepalivedConfig.file(DesiredCluster(inventory), director: inventory.directors[0])
        let expectedParts = [
            "    priority 150\n    advert_int 0.05\n    version 3\n    nopreempt\n    virtual_ipaddress {\n        192.168.0.200/32 dev eth0 label eth0:0\n    }\n    virtual_ipaddress_excluded {\n        fd00:1::200/128 dev eth0\n    }\n}",
            "    persistence_timeout 30\n    persistence_granularity 255.255.255.0\n    real_server 10.0.0.11 80 {\n        weight 1\n        uthreshold 5\n        lthreshold 2\n        inhibit_on_failure\n        TCP_CHECK {\n            connect_timeout 1",
            "virtual_server fwmark 7 {\n    ip_family inet6\n    delay_loop 2\n    lvs_sched rr\n    lvs_method DR\n    persistence_timeout 30\n    persistence_granularity 64\n    real_server fd00:2::11 0 {\n        weight 1\n        inhibit_on_failure\n        UDP_CHECK {\n            connect_port 53\n",
        ]
        for part in expectedParts { #expect(config.contains(part), "missing:\n\(part)\nin:\n\(config)") }
        #expect(!config.contains("authentication"))
    }

    /// keepalived owns the VIP and the table: the directors get no address or ipvs resource of
    /// lvsctl's, but keepalived and its configuration (and the pair's dropped resets); the sorry server is provisioned like a real server.
    @Test func desiredStateOfAKeepalivedPair() throws {
        let states = try render(loadInventory("ha-dr.yml"))
        #expect(states.map(\.host.name) == ["director", "director2", "rs1", "rs2", "sorry"])
        for director in states.prefix(2) {
            #expect(director.resources.map(\.id.description) == [
                "scheduler-available ip_vs_rr", "module ip_vs", "package ipvsadm",
                "sysctl net.ipv4.vs.conn_reuse_mode", "sysctl net.ipv4.vs.expire_nodest_conn", "sysctl net.ipv4.vs.expire_quiescent_template",
                "sysctl net.ipv4.ip_forward", "iptables filter OUTPUT -s 192.168.0.200/32 -p tcp --sport 80 --tcp-flags RST RST -j DROP",
                "package keepalived", "keepalived /etc/keepalived/keepalived.conf",
            ])
        }
        let sorry = try #require(states.last)
        #expect(sorry.resources.map(\.id.description).contains("address lo 192.168.0.200/32"))
        #expect(sorry.resources.map(\.id.description).contains("web-server 80"))
    }

    /// NAT with two directors: the real servers' gateway is the address VRRP moves.
    @Test func natPairRoutesThroughTheVRRPGateway() throws {
        let text = Self.pair.replacingOccurrences(of: "  mode: dr\n", with: "  mode: nat\n")
            .replacingOccurrences(of: "sync: true ", with: "sync: true\n    gateway: 10.0.0.3/24 ")
        guard case let .success(inventory) = InventoryParser.parse(text, file: "nat-pair.yml") else {
            Issue.record("invalid: \(Self.problems(text))"); return
        }
        let config = KeepalivedConfig.file(DesiredCluster(inventory), director: inventory.directors[0])
        #expect(config.contains("        192.168.0.200/32 dev eth0 label eth0:0\n        10.0.0.3/24 dev eth1\n"))
        let rs1 = try #require(try render(inventory).first { $0.host.name == "rs1" })
        #expect(rs1.resources.contains { $0.value == .route(Route(target: .defaultRoute, gateway: try! IPAddress.parse("10.0.0.3").get())) })
    }
}

/// The director's answer to `KeepalivedState.script`, read back: role, since when, real servers' changes.
struct KeepalivedStateTests {
    static let backupThatWasMaster = """
    @@keepalived running
    @@keepalived event Thu Nov 26 12:48:17 2026: (lvsctl) Entering BACKUP STATE (init)
    @@keepalived event Thu Nov 26 12:50:57 2026: (lvsctl) Entering MASTER STATE
    @@keepalived event Thu Nov 26 12:51:30 2026: (lvsctl) Entering BACKUP STATE
    @@keepalived event Thu Nov 26 12:52:01 2026: Removing service [10.0.0.11]:tcp:80 to VS [192.168.0.200]:tcp:80
    @@keepalived event Thu Nov 26 12:52:09 2026: Adding service [10.0.0.11]:tcp:80 to VS [192.168.0.200]:tcp:80
    ignored line
    """

    @Test func backupAfterHavingBeenMaster() {
        let state = KeepalivedState.parse(Self.backupThatWasMaster, host: "director2")
        #expect(state.running && !state.holdsVIP)
        #expect(state.role == "BACKUP")
        #expect(state.since == "Thu Nov 26 12:51:30 2026")
        #expect(state.lastChange(of: "10.0.0.11:80", up: false) == "Thu Nov 26 12:52:01 2026")
        #expect(state.lastChange(of: "10.0.0.11:80", up: true) == "Thu Nov 26 12:52:09 2026")
        #expect(state.lastChange(of: "10.0.0.12:80", up: true) == nil)
        #expect(state.events.count == 5)
    }

    @Test(arguments: [
        ("@@keepalived running\n@@keepalived holds-vip\n", "MASTER"),
        ("@@keepalived holds-vip\n", "stopped"),
        ("@@keepalived running\n@@keepalived event 2026-11-26T12:52:15+0000 d1 Keepalived_vrrp[42]: (lvsctl) Entering FAULT STATE\n", "FAULT"),
        ("", "stopped"),
    ])
    func roles(_ output: String, _ role: String) {
        #expect(KeepalivedState.parse(output, host: "d").role == role)
    }

    /// The journal's lines keep their ISO time too.
    @Test func journalTime() {
        let state = KeepalivedState.parse("@@keepalived running\n@@keepalived event 2026-11-26T12:52:15+0000 d1 Keepalived_vrrp[42]: (lvsctl) Entering BACKUP STATE\n", host: "d1")
        #expect(state.since == "2026-11-26T12:52:15+0000")
        #expect(state.events.first?.text == "(lvsctl) Entering BACKUP STATE")
    }
}

extension KeepalivedStateTests {
    /// One director with health checks only: keepalived runs, but is master of nothing.
    @Test func withoutVRRPTheRoleIsRunning() {
        var state = KeepalivedState.parse("@@keepalived running\n@@keepalived holds-vip\n", host: "d1")
        #expect(state.role == "MASTER")
        state.vrrp = false
        #expect(state.role == "running")
        state.running = false
        #expect(state.role == "stopped")
    }
}

/// The recap's VIP line after `up` of a pair, and its exit code: one holder is success; none or
/// two (a split pair) fail the run.
struct VIPHoldingTests {
    static func recap(_ holders: [String]) -> Recap {
        var recap = Recap(verb: "up", inventory: "ha.yml", hosts: [HostReport(host: "director", address: "10.0.0.1", reachable: true)], seconds: 3)
        recap.vip = VIPHolding(holders: holders, seconds: holders.count == 1 ? 2.345 : 14, bound: 14, interface: "eth0")
        return recap
    }

    @Test func oneHolderSucceeds() {
        let recap = Self.recap(["director"])
        #expect(recap.exitCode == 0)
        #expect(recap.text.hasSuffix("\nVIP       held by director (MASTER), 2.3 s after the hosts' changes"))
    }

    @Test(arguments: [[String](), ["director", "director2"]])
    func noneOrTwoFail(holders: [String]) {
        #expect(Self.recap(holders).exitCode == 1)
        #expect(Self.recap(holders).vip?.settled == false)
    }

    /// The wait covers keepalived's master-down interval at the configured advert interval.
    @Test func electionBoundFollowsTheAdvertInterval() {
        var vrrp = VRRP(routerID: 51, location: SourceLocation(file: "t", line: 1, column: 1))
        #expect(vrrp.electionBound == 14)
        vrrp.advertCentiseconds = 5
        #expect(vrrp.electionBound == 10.2)
    }

    /// A director pair drops the TCP resets its own stack would send from a VIP's service ports
    /// while keepalived stops (one rule per VIP and ports, UDP none, IPv6 with ip6tables).
    @Test func pairDropsResetsFromServicePorts() throws {
        let services = try InventoryParser.parse("""
            hosts: { d1: 10.0.0.1, d2: 10.0.0.2, rs1: 10.0.0.11 }
            cluster:
              mode: dr
              directors: [{ host: d1, interface: eth0, dip: 10.0.0.1/24 }, { host: d2, interface: eth0, dip: 10.0.0.2/24 }]
              vrrp: { router_id: 51 }
              services:
                - { vip: 10.0.0.100, port: 80, scheduler: rr, real_servers: [rs1] }
                - { vip: 10.0.0.100, port: 53, protocol: udp, scheduler: rr, real_servers: [rs1] }
                - { vip: 10.0.0.101, fwmark: 5, ports: [80, 443], scheduler: rr, real_servers: [rs1] }
                - { vip: 10.0.0.102, port: 0, persistence: 30, scheduler: rr, real_servers: [rs1] }
                - { vip: "fd00::100", port: 80, scheduler: rr, real_servers: [{ host: rs1, rip: "fd00::11" }] }
            """, file: "pair.yml").get().services
        let rules = ResetRuleFacts.rules(services)
        #expect(rules.map { "\($0.child(named: "command")!) \(($0.child(named: "rule") as! [String]).joined(separator: " "))" } == [
            "iptables -s 10.0.0.100/32 -p tcp --sport 80 --tcp-flags RST RST -j DROP",
            "iptables -s 10.0.0.101/32 -p tcp -m multiport --sports 80,443 --tcp-flags RST RST -j DROP",
            "iptables -s 10.0.0.102/32 -p tcp --tcp-flags RST RST -j DROP",
            "ip6tables -s fd00::100/128 -p tcp --sport 80 --tcp-flags RST RST -j DROP",
        ])
        #expect(rules.map { $0.child(named: "ports") as? String } == ["port 80", "ports 80,443", "every port", "port 80"])
    }
}
