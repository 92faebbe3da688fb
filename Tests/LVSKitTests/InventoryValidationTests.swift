import Foundation
import Testing
@testable import LVSKit

/// Every validation rule, with the exact message and position a user sees.
struct InventoryValidationTests {
    /// A valid DR inventory; each case changes one thing in it.
    static let base = """
    hosts:
      director: 192.168.229.133
      rs1: 192.168.229.132
      rs2: 192.168.229.134
      client: 192.168.229.200
    cluster:
      mode: dr
      director: { host: director, interface: eth0 }
      client: client
      services:
        - vip: 192.168.229.111
          port: 80
          scheduler: rr
          real_servers: [rs1, rs2]

    """

    /// A named change to the base inventory and every problem it must produce.
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        var changes: [(String, String)]
        var expected: [String]
        var testDescription: String { name }
        init(_ name: String, _ replace: String, _ with: String, _ expected: String...) {
            self.name = name
            self.changes = [(replace, with)]
            self.expected = expected.filter { !$0.isEmpty }
        }

    }

    static func problems(_ text: String) -> [String] {
        switch InventoryParser.parse(text, file: "inv.yml") {
        case .success: return []
        case let .failure(errors): return errors.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.problem.message)" }
        }
    }

    @Test func baseIsValid() {
        #expect(Self.problems(Self.base) == [])
    }

    static let cases: [Case] = [
        // Addresses
        Case("seed's 192.168.299.111", "vip: 192.168.229.111", "vip: 192.168.299.111",
             "11:12: '192.168.299.111' is not an IP address: 299 is larger than 255"),
        Case("three-part address", "rs1: 192.168.229.132", "rs1: 192.168.229",
             "3:8: '192.168.229' is not an IP address: an IPv4 address has 4 numbers separated by dots, this has 3"),
        Case("leading zero", "rs1: 192.168.229.132", "rs1: 192.168.229.032",
             "3:8: '192.168.229.032' is not an IP address: '032' has a leading zero (some tools read it as octal)"),
        Case("bad IPv6", "vip: 192.168.229.111", "vip: 2001:db8::zz",
             "11:12: '2001:db8::zz' is not an IP address: it contains ':' but is not a valid IPv6 address"),
        Case("command substitution as VIP", "vip: 192.168.229.111", "vip: $(reboot)",
             "11:12: '$(reboot)' is not an IP address: an IPv4 address has 4 numbers separated by dots, this has 1"),
        Case("shell after an address", "rs1: 192.168.229.132", "rs1: 192.168.229.132; reboot",
             "3:8: '192.168.229.132; reboot' is not an IP address: '132; reboot' is not a number from 0 to 255"),
        Case("DIP with a bad prefix", "{ host: director, interface: eth0 }", "{ host: director, interface: eth0, dip: 192.168.229.133/33 }",
             "8:53: '192.168.229.133/33' must be an address with an optional prefix length, like 10.0.0.1/24"),
        Case("masquerade not a network", "  client: client\n", "  client: client\n  masquerade: everything\n",
             "10:15: 'everything' is not an IP address: an IPv4 address has 4 numbers separated by dots, this has 1"),
        // Characters pasted from web pages
        Case("en dash in -g", "mode: dr", "mode: \u{2013}g",
             "7:9: '\u{2013}' (U+2013 EN DASH) is not allowed here: it usually comes from copying a web page; type a plain '-' (U+002D) instead"),
        Case("curly quotes around the VIP", "vip: 192.168.229.111", "vip: \u{2018}192.168.229.111\u{2019}",
             "11:12: '\u{2018}' (U+2018 LEFT SINGLE QUOTATION MARK) is not allowed here: it usually comes from copying a web page; type a plain ' (U+0027), or no quotes instead"),
        Case("right double quote inside quotes", "scheduler: rr", "scheduler: \"rr\u{201D}\"",
             "13:21: '\u{201D}' (U+201D RIGHT DOUBLE QUOTATION MARK) is not allowed here: it usually comes from copying a web page; type a plain \" (U+0022), or no quotes instead"),
        Case("no-break space", "scheduler: rr", "scheduler: r\u{00A0}r",
             "13:19: '\u{00A0}' (U+00A0 NO-BREAK SPACE) is not allowed here: it usually comes from copying a web page; type a plain space instead"),
        Case("zero-width space in a host name", "  rs2: 192", "  rs2\u{200B}: 192",
             "4:6: '\u{200B}' (U+200B ZERO WIDTH SPACE) is not allowed here: it usually comes from copying a web page; type nothing: delete it instead"),
        Case("full-width colon in an address", "rs1: 192.168.229.132", "rs1: 192.168.229.132\u{FF1A}80",
             "3:23: '\u{FF1A}' (U+FF1A FULLWIDTH ':') is not allowed here: it usually comes from copying a web page; type a plain ':' instead"),
        // Keys
        Case("typo in a key", "scheduler: rr", "schedular: rr",
             "13:7: unknown key 'schedular': did you mean 'scheduler'? allowed here: vip, port, ports, protocol, fwmark, scheduler, persistence, netmask, real_servers, health_check, sorry_server, flags"),
        Case("typo in a host key", "  rs1: 192.168.229.132", "  rs1: { adress: 192.168.229.132 }",
             "3:3: host 'rs1' needs 'address'",
             "3:10: unknown key 'adress': did you mean 'address'? allowed here: address, port, user, identity, jump, become"),
        Case("missing mode", "  mode: dr\n", "",
             "6:1: 'cluster' (nat, dr or tun) needs 'mode'"),
        Case("duplicate host", "  rs2: 192.168.229.134", "  rs1: 192.168.229.134",
             "4:3: 'rs1' is given twice (first on line 3): keep one"),
        Case("duplicate key in a service", "      port: 80\n", "      port: 80\n      port: 81\n",
             "13:7: 'port' is given twice (first on line 12): keep one"),
        Case("YAML syntax", "  director: { host: director, interface: eth0 }", "  director: { host: director, interface: eth0",
             "9:9: the file is not valid YAML: while parsing a flow mapping, did not find expected ',' or '}'. A [ or { is not closed, or its items are not separated by commas: close it, or write the list one '- item' per line"),
        // Values from lists
        Case("unknown scheduler with a suggestion", "scheduler: rr", "scheduler: rrr",
             "13:18: unknown scheduler 'rrr': did you mean 'rr'? use one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos"),
        Case("unknown scheduler", "scheduler: rr", "scheduler: round-robin",
             "13:18: unknown scheduler 'round-robin': use one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh, twos"),
        Case("unknown mode", "mode: dr", "mode: direct",
             "7:9: unknown mode 'direct': use one of nat, dr, tun"),
        Case("unknown protocol", "      port: 80\n", "      port: 80\n      protocol: sctp\n",
             "13:17: unknown protocol 'sctp': use one of tcp, udp"),
        Case("unknown become", "  rs1: 192.168.229.132", "  rs1: { address: 192.168.229.132, become: su }",
             "3:44: unknown become 'su': use one of sudo"),
        // Numbers
        Case("port too large", "port: 80", "port: 70000",
             "12:13: port 70000 is out of range: it must be a whole number from 0 to 65535"),
        Case("port is a name", "port: 80", "port: http",
             "12:13: 'port' must be a whole number"),
        Case("port 0 without persistence", "port: 80", "port: 0",
             "12:13: port 0 (all ports) needs persistence: add 'persistence: 300' to this service, as ipvsadm requires"),
        Case("weight too large", "[rs1, rs2]", "[{ host: rs1, weight: 70000 }, rs2]",
             "14:43: weight 70000 is out of range: it must be a whole number from 0 to 65535"),
        Case("negative weight", "[rs1, rs2]", "[{ host: rs1, weight: -1 }, rs2]",
             "14:43: weight -1 is out of range: it must be a whole number from 0 to 65535"),
        Case("thresholds inverted", "[rs1, rs2]", "[{ host: rs1, upper: 10, lower: 20 }, rs2]",
             "14:53: lower threshold 20 is above upper threshold 10: the lower one (-y) must be at most the upper one (-x)"),
        Case("persistence zero", "      port: 80\n", "      port: 80\n      persistence: 0\n",
             "13:20: persistence timeout 0 is out of range: it must be a whole number from 1 to 31536000"),
        Case("netmask without persistence", "      port: 80\n", "      port: 80\n      netmask: 255.255.255.0\n",
             "13:16: 'netmask' only applies to persistent services: add 'persistence' or remove 'netmask'"),
        Case("netmask not contiguous", "      port: 80\n", "      port: 80\n      persistence: 60\n      netmask: 255.0.255.0\n",
             "14:16: '255.0.255.0' is not a netmask: give a contiguous mask like 255.255.255.0 or a prefix length like 24"),
        Case("SSH port zero", "  rs1: 192.168.229.132", "  rs1: { address: 192.168.229.132, port: 0 }",
             "3:42: SSH port 0 is out of range: it must be a whole number from 1 to 65535"),
        Case("DoS value too large", "  client: client\n", "  client: client\n  dos: { drop_entry: 5 }\n",
             "10:22: drop_entry 5 is out of range: it must be a whole number from 0 to 3"),
        // Names that reach a shell
        Case("interface with a command", "interface: eth0 }", "interface: \"eth0; rm -rf /\" }",
             "8:42: interface 'eth0; rm -rf /' is not allowed: a Linux interface name is 1-15 letters, digits, '_', '.' or '-' (no ':' alias, lvsctl adds it)"),
        Case("interface too long", "interface: eth0 }", "interface: averyveryverylongname0 }",
             "8:42: interface 'averyveryverylongname0' is not allowed: a Linux interface name is 1-15 letters, digits, '_', '.' or '-' (no ':' alias, lvsctl adds it)"),
        Case("interface given as an alias", "interface: eth0 }", "interface: \"eth0:0\" }",
             "8:42: interface 'eth0:0' is not allowed: a Linux interface name is 1-15 letters, digits, '_', '.' or '-' (no ':' alias, lvsctl adds it)"),
        Case("user with a command", "  rs1: 192.168.229.132", "  rs1: { address: 192.168.229.132, user: \"root$(id)\" }",
             "3:42: user 'root$(id)' is not allowed: a Unix user name (lower-case letters, digits, '_', '-')"),
        Case("identity path with a command", "  rs1: 192.168.229.132", "  rs1: { address: 192.168.229.132, identity: \"~/.ssh/id; rm x\" }",
             "3:46: identity '~/.ssh/id; rm x' is not allowed: a key file path of letters, digits and . / _ - @ + ~"),
        Case("host name with a space", "  rs2: 192.168.229.134", "  \"rs 2\": 192.168.229.134",
             "4:3: host name 'rs 2' is not allowed: use letters, digits, '.', '_' and '-'",
             "14:27: real server host 'rs2' is not defined under 'hosts' (did you mean 'rs1'?): add it there or fix the name"),
        // References
        Case("undefined real server host", "[rs1, rs2]", "[rs1, rs3]",
             "14:27: real server host 'rs3' is not defined under 'hosts' (did you mean 'rs1'?): add it there or fix the name"),
        Case("undefined director host", "{ host: director,", "{ host: lb,",
             "8:21: director host 'lb' is not defined under 'hosts': add it there or fix the name"),
        Case("undefined jump host", "  rs1: 192.168.229.132", "  rs1: { address: 192.168.229.132, jump: bastion }",
             "3:3: jump host 'bastion' is not defined under 'hosts': add it there or fix the name"),
        Case("no real servers", "[rs1, rs2]", "[]",
             "11:7: virtual service 192.168.229.111:80/tcp has no real servers: add at least one under 'real_servers'"),
        Case("no services", "  services:\n    - vip: 192.168.229.111\n      port: 80\n      scheduler: rr\n      real_servers: [rs1, rs2]\n", "  services: []\n",
             "10:13: the cluster has no virtual services: add at least one under 'services'"),
        Case("client is the director", "client: client\n  services", "client: director\n  services",
             "8:13: the client is the director: IPVS does not balance connections that start on the director itself; pick another host"),
        Case("director is a real server", "[rs1, rs2]", "[rs1, director]",
             "14:27: host 'director' is both the director and a real server: give the real server a host of its own"),
        Case("VIP written with a prefix", "vip: 192.168.229.111", "vip: 192.168.229.111/32",
             "11:12: '192.168.229.111/32' has a prefix length, and this takes one address: write it without '/32'"),
        Case("indented with a tab", "  rs1: 192.168.229.132", "\trs1: 192.168.229.132",
             "3:1: this line is indented with a tab: YAML indents with spaces only"),
        Case("a NUL byte", "  rs1: 192.168.229.132", "  rs1: 192.168.229.132\u{0}",
             "3:23: control character U+0000 is not allowed in YAML: delete it (it often comes from a binary file or a bad copy)"),
        Case("empty file", InventoryValidationTests.base, "",
             "1:1: the file holds nothing: an inventory needs 'hosts' and 'cluster' (inventories/example.yml shows every key)"),
        // Addresses no one host can have
        Case("VIP 0.0.0.0", "vip: 192.168.229.111", "vip: 0.0.0.0",
             "11:7: VIP 0.0.0.0 cannot be used: 0.0.0.0 means any address, not one host. Give the address of one host"),
        Case("multicast VIP", "vip: 192.168.229.111", "vip: 224.0.0.1",
             "11:7: VIP 224.0.0.1 cannot be used: 224.0.0.0/4 is multicast: a group, not one host. Give the address of one host"),
        Case("VIP is the DIP network's broadcast", "vip: 192.168.229.111", "vip: 192.168.229.255",
             "11:7: VIP 192.168.229.255 cannot be used: it is the broadcast address of 192.168.229.0/24. Give the address of one host"),
        Case("VIP is the DIP network's address", "vip: 192.168.229.111", "vip: 192.168.229.0",
             "11:7: VIP 192.168.229.0 cannot be used: it is the address of the network 192.168.229.0/24 itself. Give the address of one host"),
        Case("loopback RIP", "[rs1, rs2]", "[{ host: rs1, rip: 127.0.0.1 }, rs2]",
             "14:22: RIP 127.0.0.1 cannot be used: 127.0.0.0/8 is loopback: packets to it never leave a host. Give the address of one host",
             "14:22: real server 127.0.0.1 is not in the director's network 192.168.229.0/24: in DR the director and real servers must share a layer-2 network. Fix the RIP or the DIP's prefix"),
        Case("DIP is its network's broadcast", "{ host: director, interface: eth0 }", "{ host: director, interface: eth0, dip: 192.168.229.255/24 }",
             "8:13: DIP 192.168.229.255 cannot be used: it is the broadcast address of 192.168.229.0/24. Give the address of one host"),
        Case("IPv6 multicast VIP", "vip: 192.168.229.111", "vip: ff02::1",
             "11:7: VIP ff02::1 cannot be used: ff00::/8 is multicast: a group, not one host. Give the address of one host",
             "14:22: VIP ff02::1 and RIP 192.168.229.132 are of different address families: use IPv4 for both or IPv6 for both",
             "14:27: VIP ff02::1 and RIP 192.168.229.134 are of different address families: use IPv4 for both or IPv6 for both"),
        Case("jump hosts in a circle", "  rs1: 192.168.229.132\n  rs2: 192.168.229.134", "  rs1: { address: 192.168.229.132, jump: rs2 }\n  rs2: { address: 192.168.229.134, jump: rs1 }",
             "3:3: jump hosts go round in a circle (rs1 → rs2 → rs1): the last jump host must be reachable directly",
             "4:3: jump hosts go round in a circle (rs2 → rs1 → rs2): the last jump host must be reachable directly"),
        // Cross-field rules
        Case("VIP equals the DIP", "vip: 192.168.229.111", "vip: 192.168.229.133",
             "11:7: VIP 192.168.229.133 is also the director's DIP: the VIP must be an address of its own"),
        Case("VIP equals a RIP", "vip: 192.168.229.111", "vip: 192.168.229.132",
             "14:22: VIP 192.168.229.132 is also the RIP of real server 'rs1': the VIP must be an address of its own"),
        Case("same RIP twice", "[rs1, rs2]", "[rs1, rs1]",
             "14:27: real server 192.168.229.132:80 is listed twice in this service (first on line 14): remove one, or give it a higher weight instead"),
        Case("same service twice", "      real_servers: [rs1, rs2]\n", "      real_servers: [rs1, rs2]\n    - vip: 192.168.229.111\n      real_servers: [rs2]\n",
             "15:7: virtual service 192.168.229.111:80/tcp is defined twice (first on line 11): merge their real servers into one service"),
        Case("DR cannot map ports", "[rs1, rs2]", "[{ host: rs1, port: 8080 }, rs2]",
             "14:22: DR cannot map ports: real server port 8080 differs from the virtual service's port 80. Use the same port, or NAT mode"),
        Case("TUN cannot map ports", "mode: dr", "mode: tun\n  # tunnel", "")
            .replacing("[rs1, rs2]", "[{ host: rs1, port: 8080 }, rs2]",
                       "15:22: TUN cannot map ports: real server port 8080 differs from the virtual service's port 80. Use the same port, or NAT mode"),
        Case("DR real server on another subnet", "rs2: 192.168.229.134", "rs2: 10.0.0.12",
             "14:27: real server 10.0.0.12 is not in the director's network 192.168.229.0/24: in DR the director and real servers must share a layer-2 network. Fix the RIP or the DIP's prefix"),
        Case("NAT real server on another subnet", "mode: dr", "mode: nat\n  # nat", "")
            .replacing("rs2: 192.168.229.134", "rs2: 10.0.0.12",
                       "15:27: real server 10.0.0.12 is not in the director's network 192.168.229.0/24: NAT real servers use the DIP as their gateway. Fix the RIP or the DIP's prefix"),
        Case("IPv6 VIP with IPv4 real servers", "vip: 192.168.229.111", "vip: 2001:db8::111",
             "14:22: VIP 2001:db8::111 and RIP 192.168.229.132 are of different address families: use IPv4 for both or IPv6 for both",
             "14:27: VIP 2001:db8::111 and RIP 192.168.229.134 are of different address families: use IPv4 for both or IPv6 for both"),
        Case("firewall mark with a port", "      port: 80\n", "      port: 80\n      fwmark: 3\n      ports: [80, 8080]\n",
             "12:7: a firewall-mark service matches packets by their mark, not by 'port': list the ports the mark groups under 'ports' instead"),
        Case("firewall mark without ports", "      port: 80\n", "      fwmark: 3\n",
             "12:15: firewall-mark service 3 does not say which traffic gets the mark: add ports: [80, 8080] (and protocol: udp for UDP), so only those ports of the VIP are marked"),
        Case("ports without a firewall mark", "      port: 80\n", "      ports: [80, 8080]\n",
             "12:7: 'ports' lists the ports a firewall mark groups: add fwmark: N, or use 'port' for a one-port service"),
        Case("a firewall mark's port out of range", "      port: 80\n", "      fwmark: 3\n      ports: [80, 70000]\n",
             "13:19: port 70000 is out of range: it must be a whole number from 1 to 65535"),
        Case("IPv6 VIP in TUN mode", "  mode: dr\n", "  mode: tun\n").replacing("vip: 192.168.229.111\n      port: 80\n      scheduler: rr\n      real_servers: [rs1, rs2]",
             "vip: \"fd00::200\"\n      real_servers: [{ host: rs1, rip: \"fd00::11\" }]",
             "11:7: TUN with IPv6 VIP fd00::200 needs IPv6-in-IPv6 tunnels (ip6tnl), which lvsctl does not set up: use mode nat or dr for IPv6 services"),
        Case("IPv6 VIP in NAT mode without dip6", "  mode: dr\n", "  mode: nat\n").replacing("vip: 192.168.229.111\n      port: 80\n      scheduler: rr\n      real_servers: [rs1, rs2]",
             "vip: \"fd00::200\"\n      real_servers: [{ host: rs1, rip: \"fd00::11\" }]",
             "11:7: NAT real servers send their replies through the director, and VIP fd00::200 is IPv6: give the director's IPv6 address on the real servers' network as dip6 (e.g. dip6: fd00:2::1/64 under director)"),
        Case("IPv6 real server outside dip6's network", "interface: eth0 }", "interface: eth0, dip6: \"fd00:2::1/64\" }").replacing("vip: 192.168.229.111\n      port: 80\n      scheduler: rr\n      real_servers: [rs1, rs2]",
             "vip: \"fd00::200\"\n      real_servers: [{ host: rs1, rip: \"fd00::11\" }]",
             "12:22: real server fd00::11 is not in the director's network fd00:2::/64: in DR the director and real servers must share a layer-2 network. Fix the RIP or the DIP's prefix"),
        // Mistakes operators make (issue 20): each refused with where and what to do.
        Case("VIP is another host's address", "vip: 192.168.229.111", "vip: 192.168.229.200",
             "11:7: VIP 192.168.229.200 is the address of host 'client': the VIP must be an address of its own, or the director would take that host's address"),
        Case("a host that jumps through itself", "rs1: 192.168.229.132", "rs1: { address: 192.168.229.132, jump: rs1 }",
             "3:3: host 'rs1' jumps through itself: 'jump' names another host to reach it through; remove it, or name that other host"),
        Case("a port beyond any number", "      port: 80\n", "      port: 99999999999999999999\n",
             "12:13: port 99999999999999999999 is out of range: it must be a whole number from 0 to 65535"),
        Case("an IPv4 netmask on an IPv6 service", "interface: eth0 }", "interface: eth0, dip6: \"fd00:2::1/64\" }").replacing("vip: 192.168.229.111\n      port: 80\n      scheduler: rr\n      real_servers: [rs1, rs2]",
             "vip: \"fd00:1::200\"\n      port: 80\n      persistence: 60\n      netmask: 255.255.255.0\n      real_servers: [{ host: rs1, rip: \"fd00:2::11\" }]",
             "14:16: '255.255.255.0' is an IPv4 netmask, and this service is IPv6: give a prefix length from 1 to 128, like 64"),
        Case("a firewall mark taking a port service's port", "      real_servers: [rs1, rs2]\n",
             "      real_servers: [rs1, rs2]\n    - { vip: 192.168.229.111, fwmark: 3, ports: [80, 443], scheduler: rr, real_servers: [rs1, rs2] }\n",
             "15:7: firewall-mark service 3 marks port 80 of 192.168.229.111, which service 192.168.229.111:80/tcp expects: IPVS looks up the mark first, so that service would get nothing. Drop port 80 from one of them"),
        Case("an unclosed quote", "scheduler: rr", "scheduler: \"rr", "13:18: the file is not valid YAML: while scanning a quoted scalar, found unexpected end of stream. A quote is left open, or a backslash in double quotes starts an unknown escape: close the quote, or use single quotes"),
        Case("dip6 that is IPv4", "interface: eth0 }", "interface: eth0, dip6: 10.0.0.1/24 }",
             "8:54: dip6 must be an IPv6 address"),
        // Scheduler flags: ipvsadm's words, each checked against the scheduler.
        Case("flags on a scheduler without any", "      scheduler: rr\n", "      scheduler: rr\n      flags: [mh-port]\n",
             "14:15: scheduler rr takes no flags: sh-fallback, sh-port, mh-fallback, mh-port belong to the sh and mh schedulers; remove 'flags' or set scheduler: sh or mh"),
        Case("the other hashing scheduler's flag", "      scheduler: rr\n", "      scheduler: mh\n      flags: [mh-fallback, sh-port]\n",
             "14:28: 'sh-port' is not a flag of the mh scheduler: write 'mh-port'; its flags are mh-fallback and mh-port (mh-port hashes the client's port too, mh-fallback moves a flow whose real server has weight 0 to the next one)"),
        Case("an unknown flag", "      scheduler: rr\n", "      scheduler: sh\n      flags: [sticky]\n",
             "14:15: 'sticky' is not a flag of the sh scheduler: its flags are sh-fallback and sh-port (sh-port hashes the client's port too, sh-fallback moves a flow whose real server has weight 0 to the next one)"),
        Case("real server named by DNS without rip", "  rs2: 192.168.229.134", "  rs2: rs2.example.com",
             "14:27: real server 'rs2' (its host's address is a name, not an IP) needs 'rip'"),
    ]

    @Test(arguments: cases)
    func rule(_ c: Case) {
        let text = c.apply(to: Self.base)
        #expect(text != Self.base, "the case must change the inventory")
        #expect(Self.problems(text) == c.expected)
    }
}

extension InventoryValidationTests.Case {
    func apply(to base: String) -> String {
        changes.reduce(base) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
    }

    /// A second change (for cases that also switch the mode), with the problems expected then.
    func replacing(_ from: String, _ to: String, _ expected: String...) -> Self {
        var copy = self
        copy.changes.append((from, to))
        copy.expected = expected
        return copy
    }
}
