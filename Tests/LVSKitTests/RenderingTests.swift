import Foundation
import Testing
@testable import LVSKit

/// The repository's own playbooks/ and templates/.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

func loadInventory(_ name: String) throws -> Inventory {
    let path = "\(repositoryRoot)/inventories/\(name)"
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return try InventoryParser.parse(text, file: "inventories/\(name)").get()
}

/// `10.0.0.11:80` as a typed endpoint (a test's literal: a typo stops the test at once).
func ep(_ text: String) -> Endpoint { Endpoint(parsing: text)! }

func render(_ inventory: Inventory) throws -> [HostState] {
    try DesiredStateBuilder(library: PlaybookLibrary.load(from: repositoryRoot)).hosts(inventory)
}

func renderScripts(_ inventory: Inventory) throws -> [String: String] {
    Dictionary(uniqueKeysWithValues: try render(inventory).map { ($0.host.name, ScriptRenderer.script($0, inventory: inventory)) })
}

/// The seed's scripts, generated: every line of theirs that matters appears in ours.
struct SeedTopologyTests {
    /// A script a person runs by hand defines every folder its checks use: a NAT real server's
    /// web-server check keeps the page in $T, and had no address look-up to bring $T along.
    @Test func everyScriptDefinesTheFolderItsChecksUse() throws {
        for name in ["nat.yml", "dr.yml", "tun.yml", "example.yml"] {
            for (host, script) in try renderScripts(loadInventory(name)) where script.contains("$T/") {
                #expect(script.contains("T=$(mktemp -d) || exit 1\n"), "\(name) \(host)")
            }
        }
    }

    @Test func natDirectorAndRealServers() throws {
        let scripts = try renderScripts(loadInventory("nat.yml"))
        let director = try #require(scripts["director"])
        for line in [
            "echo 1 > /proc/sys/net/ipv4/ip_forward",
            "echo 0 > /proc/sys/net/ipv4/conf/all/send_redirects",
            "echo 0 > /proc/sys/net/ipv4/conf/default/send_redirects",
            "echo 0 > /proc/sys/net/ipv4/conf/eth0/send_redirects",
            "echo 0 > /proc/sys/net/ipv4/conf/eth1/send_redirects",
            "ipvsadm -A -t 192.168.1.111:80 -s rr",
            "ipvsadm -a -t 192.168.1.111:80 -r 192.168.229.132:80 -m -w 1",
            "ipvsadm -a -t 192.168.1.111:80 -r 192.168.229.134:80 -m -w 1",
        ] { #expect(director.contains(line + "\n"), "director script lacks: \(line)") }
        // The seed's "GATEWAY=192.168.229.133" on each real server, and its test pages.
        #expect(scripts["rs1"]?.contains("ip -4 route replace default via 192.168.229.133\n") == true)
        #expect(scripts["rs1"]?.contains("'I am RealServer1 192.168.229.132'") == true)
        #expect(scripts["rs2"]?.contains("'I am RealServer2 192.168.229.134'") == true)
    }

    @Test func drDirectorAndRealServers() throws {
        let scripts = try renderScripts(loadInventory("dr.yml"))
        let director = try #require(scripts["director"])
        for line in [
            "echo 1 > /proc/sys/net/ipv4/ip_forward",
            "ip addr add 192.168.229.111/32 brd 192.168.229.111 dev eth0 label eth0:0",   // ifconfig eth0:0 $vip ... up
            "ip -4 route replace 192.168.229.111 dev eth0",                                 // route add -host $vip dev eth0:0
            "ipvsadm -A -t 192.168.229.111:80 -s rr",
            "ipvsadm -a -t 192.168.229.111:80 -r 192.168.229.132:80 -g -w 1",
            "ipvsadm -a -t 192.168.229.111:80 -r 192.168.229.134:80 -g -w 1",
        ] { #expect(director.contains(line + "\n"), "director script lacks: \(line)") }
        #expect(!director.contains("send_redirects"), "DR does not touch redirects")
        for host in ["rs1", "rs2"] {
            let script = try #require(scripts[host])
            for line in [
                "ip addr add 192.168.229.111/32 brd 192.168.229.111 dev lo label lo:0",  // ifconfig lo:0 $vip ... netmask 255.255.255.255
                "ip -4 route replace 192.168.229.111 dev lo",                            // route add -host $vip lo:0
                "echo 1 > /proc/sys/net/ipv4/conf/lo/arp_ignore",
                "echo 2 > /proc/sys/net/ipv4/conf/lo/arp_announce",
                "echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore",
                "echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce",
            ] { #expect(script.contains(line + "\n"), "\(host) script lacks: \(line)") }
            #expect(!script.contains("default via"), "DR real servers keep their gateway")
        }
    }

    @Test func tunDirectorAndRealServers() throws {
        let scripts = try renderScripts(loadInventory("tun.yml"))
        let director = try #require(scripts["director"])
        #expect(director.contains("ipvsadm -a -t 192.168.229.111:80 -r 192.168.229.132:80 -i -w 1\n"))
        #expect(director.contains("ip addr add 192.168.229.111/32 brd 192.168.229.111 dev eth0 label eth0:0\n"))
        // Destructive seed lines are opt-in, and off in the shipped inventory.
        #expect(!director.contains("iptables -t nat -F") && !director.contains("setenforce"))
        let rs1 = try #require(scripts["rs1"])
        let expected = [
            "modprobe ipip",
            "ip link set tunl0 up",
            "ip addr add 192.168.229.111/32 brd 192.168.229.111 dev tunl0 label tunl0",
            "ip -4 route replace 192.168.229.111 dev tunl0",
            "echo 0 > /proc/sys/net/ipv4/ip_forward",
            "echo 1 > /proc/sys/net/ipv4/conf/tunl0/arp_ignore",
            "echo 2 > /proc/sys/net/ipv4/conf/tunl0/arp_announce",
            "echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore",
            "echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce",
            "echo 0 > /proc/sys/net/ipv4/conf/tunl0/rp_filter",
            "echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter",
        ]
        for line in expected { #expect(rs1.contains(line + "\n"), "rs1 script lacks: \(line)") }
        // ipip must be loaded before tunl0 exists.
        let order = expected.prefix(3).compactMap { rs1.range(of: $0)?.lowerBound }
        #expect(order == order.sorted())
    }

    @Test func optInSeedStepsAppearOnlyWhenAsked() throws {
        var inventory = try loadInventory("tun.yml")
        inventory.options.flushNAT = true
        inventory.options.selinuxPermissive = true
        let director = try #require(try renderScripts(inventory)["director"])
        #expect(director.contains("iptables -t nat -F\n"))
        #expect(director.contains("setenforce 0\n"))
    }

    @Test func ipvsadmSaveFormat() throws {
        let text = ScriptRenderer.ipvsadmSave(DesiredCluster(try loadInventory("example.yml")))
        #expect(text == """
        -A -t 198.51.100.100:80 -s wrr -p 300 -M 255.255.255.0
        -a -t 198.51.100.100:80 -r 10.1.0.11:8080 -m -w 3
        -a -t 198.51.100.100:80 -r 10.1.0.12:80 -m -w 1
        -a -t 198.51.100.100:80 -r 10.1.0.13:80 -m -w 3
        -A -f 7 -s sh
        -a -f 7 -r 10.1.0.11:0 -m -w 1
        -a -f 7 -r 10.1.0.12:0 -m -w 1
        -A -t [2001:db8::100]:443 -s wlc
        -a -t [2001:db8::100]:443 -r [fd00:10::11]:443 -m -w 1
        -a -t [2001:db8::100]:443 -r [fd00:10::12]:443 -m -w 1

        """)
    }

    @Test func everyOptionRenders() throws {
        let scripts = try renderScripts(loadInventory("example.yml"))
        let director = try #require(scripts["lb1"])
        #expect(director.contains("ipvsadm -A -t 198.51.100.100:80 -s wrr -p 300 -M 255.255.255.0\n"))
        #expect(director.contains("ipvsadm -a -t 198.51.100.100:80 -r 10.1.0.11:8080 -m -w 3 -x 1000 -y 800\n"))
        #expect(director.contains("iptables -t nat -A POSTROUTING -s 10.1.0.0/24 -j MASQUERADE\n"))
        #expect(director.contains("iptables -t mangle -A PREROUTING -d 198.51.100.101/32 -p tcp -m multiport --dports 80,8080 -j MARK --set-mark 7\n"))
        #expect(director.contains("echo 1 > /proc/sys/net/ipv4/vs/drop_entry\n"))
        #expect(scripts["web2"]?.contains("'web2 says hello'") == true)
    }
}
