import Foundation
import Testing
@testable import LVSKit

/// IPv6, UDP and firewall-mark services: the exact lines each host gets.
struct ServiceKindRenderingTests {
    static func scripts(mode: String, director: String, services: String) throws -> [String: String] {
        let text = """
        hosts:
          client: 192.168.0.100
          director: 192.168.0.10
          rs1: 10.0.0.11
          rs2: 10.0.0.12
        cluster:
          mode: \(mode)
          director: { host: director, interface: eth0, \(director) }
          client: client
          services:
        \(services)
        """
        return try renderScripts(InventoryParser.parse(text, file: "inv.yml").get())
    }

    static let ipv6Service = """
        - vip: "fd00:1::200"
          scheduler: rr
          real_servers: [{ host: rs1, rip: "fd00:2::11" }, { host: rs2, rip: "fd00:2::12" }]
    """

    @Test func ipv6InNAT() throws {
        let scripts = try Self.scripts(mode: "nat", director: "dip: 10.0.0.1/24, dip6: \"fd00:2::1/64\"", services: Self.ipv6Service)
        let director = try #require(scripts["director"])
        for line in [
            "echo 1 > /proc/sys/net/ipv6/conf/all/forwarding",
            "ip addr add fd00:1::200/128 dev eth0 nodad",
            "ipvsadm -A -t '[fd00:1::200]:80' -s rr",
            "ipvsadm -a -t '[fd00:1::200]:80' -r '[fd00:2::11]:80' -m -w 1",
        ] { #expect(director.contains(line + "\n"), "director script lacks: \(line)") }
        let rs1 = try #require(scripts["rs1"])
        // Replies of both families go back through the director.
        #expect(rs1.contains("ip -4 route replace default via 10.0.0.1\n"))
        #expect(rs1.contains("ip -6 route replace default via fd00:2::1\n"))
    }

    @Test func ipv6InDR() throws {
        let scripts = try Self.scripts(mode: "dr", director: "dip: 10.0.0.1/24", services: Self.ipv6Service)
        let director = try #require(scripts["director"])
        #expect(director.contains("ip addr add fd00:1::200/128 dev eth0 nodad\n"))
        #expect(director.contains("ip -6 route replace fd00:1::200 dev eth0\n"))
        #expect(director.contains("ipvsadm -a -t '[fd00:1::200]:80' -r '[fd00:2::11]:80' -g -w 1\n"))
        #expect(!director.contains("net/ipv6/conf/all/forwarding"), "DR needs no IPv6 forwarding")
        let rs1 = try #require(scripts["rs1"])
        #expect(rs1.contains("ip addr add fd00:1::200/128 dev lo nodad\n"))
        #expect(rs1.contains("ip -6 route replace fd00:1::200 dev lo\n"))
        #expect(!rs1.contains("default via"))
    }

    /// Flags given in any order reach ipvsadm in the order it lists them (so a second `up`
    /// compares equal), and keepalived one keyword a line after lvs_sched.
    @Test func maglevFlagsInIpvsadmsOrder() throws {
        let services = """
            - vip: 192.168.0.200
              scheduler: mh
              flags: [mh-port, MH-FALLBACK, mh-port]
              real_servers: [rs1, rs2]
              health_check: { type: tcp }
        """
        let scripts = try Self.scripts(mode: "dr", director: "dip: 10.0.0.1/24", services: services)
        let text = "hosts: { client: 192.168.0.100, director: 192.168.0.10, rs1: 10.0.0.11, rs2: 10.0.0.12 }\n"
            + "cluster:\n  mode: dr\n  director: { host: director, dip: 10.0.0.1/24 }\n  services:\n" + services
        let inventory = try InventoryParser.parse(text, file: "inv.yml").get()
        #expect(DesiredCluster(inventory).ipvsServices[0].schedulerFlags == "mh-fallback,mh-port")
        #expect(IPVSAdm.create(DesiredCluster(inventory).ipvsServices[0])[0] == ["-A", "-t", "192.168.0.200:80", "-s", "mh", "-b", "mh-fallback,mh-port"])
        let config = KeepalivedConfig.file(DesiredCluster(inventory), director: inventory.director)
        #expect(config.contains("    lvs_sched mh\n    lvs_method DR\n    mh-fallback\n    mh-port\n    protocol TCP\n"), "\(config)")
        #expect(scripts["director"] != nil)
    }

    @Test func firewallMarkMarksOnlyItsPorts() throws {
        let scripts = try Self.scripts(mode: "dr", director: "dip: 10.0.0.1/24", services: """
            - vip: 192.168.0.200
              fwmark: 5
              ports: [80, 8080]
              persistence: 60
              scheduler: rr
              real_servers: [rs1, rs2]
        """)
        let director = try #require(scripts["director"])
        #expect(director.contains("iptables -t mangle -A PREROUTING -d 192.168.0.200/32 -p tcp -m multiport --dports 80,8080 -j MARK --set-mark 5\n"))
        #expect(director.contains("ipvsadm -A -f 5 -s rr -p 60\n"))
        #expect(director.contains("ipvsadm -a -f 5 -r 10.0.0.11:0 -g -w 1\n"))
        // Each marked port gets a page and a web server on every real server.
        let rs1 = try #require(scripts["rs1"])
        for port in [80, 8080] {
            #expect(rs1.contains("setsid busybox httpd -f -p \(port) -h /var/lib/lvsctl/www/\(port) "))
        }
    }

    @Test func udpServiceGetsAResponder() throws {
        let scripts = try Self.scripts(mode: "dr", director: "dip: 10.0.0.1/24", services: """
            - vip: 192.168.0.200
              port: 53
              protocol: udp
              scheduler: rr
              real_servers: [rs1, rs2]
        """)
        #expect(scripts["director"]?.contains("ipvsadm -A -u 192.168.0.200:53 -s rr\n") == true)
        let rs1 = try #require(scripts["rs1"])
        #expect(rs1.contains("[udp-responder 53]"))
        #expect(rs1.contains("/var/lib/lvsctl/www/53/index.html </dev/null >/dev/null 2>&1 &\necho $! > /var/lib/lvsctl/udp-53.pid\n"))
        #expect(!rs1.contains("httpd"), "no web server for a UDP-only real server")
    }

    /// Every scheduler a service names is a requirement the director must meet first.
    @Test func schedulersAreRequirementsFirst() throws {
        let states = try render(InventoryParser.parse("""
        hosts: { director: 192.168.0.10, rs1: 10.0.0.11 }
        cluster:
          mode: nat
          director: { host: director, dip: 10.0.0.1/24 }
          services:
            - { vip: 192.168.0.200, scheduler: twos, real_servers: [rs1] }
            - { vip: 192.168.0.201, scheduler: sh, real_servers: [rs1] }
            - { vip: 192.168.0.202, scheduler: twos, real_servers: [rs1] }
        """, file: "inv.yml").get())
        let director = try #require(states.first)
        #expect(director.resources.prefix(3).map(\.id.description) == ["scheduler-available ip_vs_twos", "scheduler-available ip_vs_sh", "module ip_vs"])
        #expect(director.resources.prefix(2).allSatisfy { $0.shell?.requirement == true })
    }
}
