import Testing
@testable import LVSKit

/// The one ipvsadm grammar: what ipvsadm 1.31 printed on the lab's Debian 12 kernel, read back;
/// and the exact commands for each kind of change.
struct IPVSAdmTests {
    static let save = """
        -A -t 192.168.0.200:80 -s wrr -p 300 -M 255.255.255.0
        -a -t 192.168.0.200:80 -r 10.0.0.11:80 -g -w 3
        -a -t 192.168.0.200:80 -r 10.0.0.12:8080 -m -w 0
        -A -t 192.168.0.201:0 -s lc -p 20
        -A -t 192.168.0.202:80 -s sh -b sh-fallback,sh-port
        -A -u 192.168.0.200:53 -s rr
        -a -u 192.168.0.200:53 -r 10.0.0.11:53 -m -w 1
        -A -t [fd00::200]:80 -s rr -p 30 -M 64
        -a -t [fd00::200]:80 -r [fd00::11]:80 -g -w 1
        -A -f 7 -s sh -p 60
        -a -f 7 -r 10.0.0.11:0 -i -w 1 --tun-type ipip
        -A -f 8 -6 -s rr
        -a -f 8 -6 -r [fd00::11]:0 -g -w 1

        """
    static let thresholds = """
        IP Virtual Server version 1.2.1 (size=4096)
        Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn
          -> RemoteAddress:Port
        TCP  192.168.0.200:80 wrr persistent 300 mask 255.255.255.0
          -> 10.0.0.11:80                 100        50         2          7
          -> 10.0.0.12:8080               0          0          0          0
        TCP  192.168.0.201:0 lc persistent 20
        TCP  192.168.0.202:80 sh (sh-fallback,sh-port)
        UDP  192.168.0.200:53 rr
          -> 10.0.0.11:53                 0          0          0          1
        TCP  [fd00::200]:80 rr persistent 30 mask 64
          -> [fd00::11]:80                0          0          0          0
        FWM  7 sh persistent 60
          -> 10.0.0.11:0                  0          0          0          0
        FWM  8 IPv6 rr
          -> [fd00::11]:0                 0          0          0          0

        """
    static let stats = """
        IP Virtual Server version 1.2.1 (size=4096)
        Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
          -> RemoteAddress:Port
        TCP  192.168.0.200:80                   12       72        0     4770        0
          -> 10.0.0.11:80                        3       18        0     1192        0
          -> 10.0.0.12:8080                      9       54        0     3578        0
        FWM  8 IPv6                              0        0        0        0        0

        """

    /// The same table as /proc/net/ip_vs lists it (the kernel's order of services).
    static let kernel = """
        IP Virtual Server version 1.2.1 (size=4096)
        Prot LocalAddress:Port Scheduler Flags
          -> RemoteAddress:Port Forward Weight ActiveConn InActConn
        FWM  00000008 rr 
          -> [fd00:0000:0000:0000:0000:0000:0000:0011]:0000      Route   1      0          0         
        UDP  C0A800C8:0035 rr 
          -> 0A00000B:0035      Masq    1      0          1         
        TCP  C0A800C8:0050 wrr persistent 75000 FFFFFF00
          -> 0A00000B:0050      Route   3      2          7         
          -> 0A00000C:1F90      Masq    0      0          0         
        TCP  C0A800C9:0000 lc persistent 5000 FFFFFFFF
        TCP  C0A800CA:0050 sh 
        TCP  [fd00:0000:0000:0000:0000:0000:0000:0200]:0050 rr persistent 7500 FFFFFFFF
          -> [fd00:0000:0000:0000:0000:0000:0000:0011]:0050      Route   1      0          0         
        FWM  00000007 sh persistent 15000 FFFFFFFF
          -> 0A00000B:0000      Tunnel  1      0          0         

        """

    static func ip(_ text: String) -> IPAddress { try! IPAddress.parse(text).get() }

    /// The director's read (/proc/net/ip_vs and the thresholds listing) makes the table the two
    /// ipvsadm listings made, in `-S`'s order.
    @Test func kernelListingAndThresholdsMakeTheSaveTable() {
        #expect(IPVSAdm.table(kernel: Self.kernel, thresholds: Self.thresholds, stats: Self.stats)
                == IPVSAdm.table(save: Self.save, thresholds: Self.thresholds, stats: Self.stats))
    }

    /// As the lab's director printed them (ipvsadm 1.31, Debian 12's kernel): an IPv4 firewall
    /// mark, an IPv6 one with no real server, scheduler flags, persistence in jiffies.
    @Test func kernelListingOfTheLabsDirector() {
        let kernel = """
            IP Virtual Server version 1.2.1 (size=4096)
            Prot LocalAddress:Port Scheduler Flags
              -> RemoteAddress:Port Forward Weight ActiveConn InActConn
            UDP  [fd00:0000:0000:0000:0000:0000:0000:0005]:0035 mh 
              -> [fd00:0000:0000:0000:0000:0000:0000:0011]:0035      Tunnel  0      0          0         
            TCP  C0A800C9:0050 sh  persistent 75000 FFFFFF00
              -> 0A00000B:0050      Masq    3      0          0         
            FWM  00000007 rr persistent 15000 FFFFFFFF
              -> 0A00000C:0000      Route   1      0          0         
            FWM  00000008 lc 
            """
        let thresholds = """
            IP Virtual Server version 1.2.1 (size=4096)
            Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn 
              -> RemoteAddress:Port
            UDP  [fd00::5]:53 mh (mh-port)
              -> [fd00::11]:53                0          0          0          0         
            TCP  192.168.0.201:80 sh (sh-fallback,sh-port) persistent 300 mask 255.255.255.0
              -> 10.0.0.11:80                 9          2          0          0         
            FWM  7 rr persistent 60
              -> 10.0.0.12:0                  0          0          0          0         
            FWM  8 IPv6 lc
            """
        let save = """
            -A -t 192.168.0.201:80 -s sh -p 300 -M 255.255.255.0 -b sh-fallback,sh-port
            -a -t 192.168.0.201:80 -r 10.0.0.11:80 -m -w 3
            -A -u [fd00::5]:53 -s mh -b mh-port
            -a -u [fd00::5]:53 -r [fd00::11]:53 -i -w 0 --tun-type ipip
            -A -f 7 -s rr -p 60
            -a -f 7 -r 10.0.0.12:0 -g -w 1
            -A -f 8 -6 -s lc
            """
        let table = IPVSAdm.table(kernel: kernel, thresholds: thresholds)
        #expect(table == IPVSAdm.table(save: save, thresholds: thresholds))
        #expect(table.services.map(\.key.description) == ["tcp 192.168.0.201:80", "udp [fd00::5]:53", "fwmark 7", "fwmark 8 ipv6"])
        #expect(table.services[0].destinations == [IPVSDestination(address: Self.ip("10.0.0.11"), port: 80, method: .nat, weight: 3, upper: 9, lower: 2)])
    }

    @Test func readsEveryKindOfService() {
        let table = IPVSAdm.table(save: Self.save, thresholds: Self.thresholds, stats: Self.stats)
        #expect(table.services.map(\.key.description) == [
            "tcp 192.168.0.200:80", "tcp 192.168.0.201:0", "tcp 192.168.0.202:80", "udp 192.168.0.200:53",
            "tcp [fd00::200]:80", "fwmark 7", "fwmark 8 ipv6",
        ])
        let web = table.services[0]
        #expect(web == IPVSService(key: .tcp(Self.ip("192.168.0.200"), port: 80), scheduler: "wrr", persistence: 300, netmask: "255.255.255.0",
                                   destinations: [
                                       IPVSDestination(address: Self.ip("10.0.0.11"), port: 80, method: .directRouting, weight: 3, upper: 100, lower: 50),
                                       IPVSDestination(address: Self.ip("10.0.0.12"), port: 8080, method: .nat, weight: 0),
                                   ]))
        #expect(table.services[2].schedulerFlags == "sh-fallback,sh-port")
        #expect(table.services[5].destinations.map(\.method) == [.tunnel])
        #expect(table.services[6].key == .fwmark(8, .v6))
        #expect(table.connections[web.key]?[ep("10.0.0.11:80")] == IPVSConnectionCounts(active: 2, inactive: 7))
        #expect(table.serviceStats[web.key] == IPVSStats(connections: 12, inPackets: 72, outPackets: 0, inBytes: 4770, outBytes: 0))
        #expect(table.destinationStats[web.key]?[ep("10.0.0.12:8080")]?.connections == 9)
    }

    /// What lvsctl writes as save lines, ipvsadm -S prints back the same.
    @Test func saveLinesRoundTrip() {
        let services = IPVSAdm.parseSave(Self.save)
        let lines = services.flatMap(IPVSAdm.saveLines)
        #expect(lines.joined(separator: "\n") + "\n" == Self.save.replacingOccurrences(of: " --tun-type ipip", with: ""))
        #expect(IPVSAdm.parseSave(lines.joined(separator: "\n")) == services)
    }

    @Test func identityTextReadsBack() {
        for service in IPVSAdm.parseSave(Self.save) {
            #expect(IPVSServiceKey(identity: service.key.description) == service.key)
        }
    }

    @Test(arguments: [
        (IPVSService.Change.create(IPVSService(key: .udp(ip("10.0.0.100"), port: 53), scheduler: "rr",
                                               destinations: [IPVSDestination(address: ip("10.0.0.11"), port: 53, method: .nat, weight: 2, upper: 10)])),
         ["ipvsadm -A -u 10.0.0.100:53 -s rr", "ipvsadm -a -u 10.0.0.100:53 -r 10.0.0.11:53 -m -w 2 -x 10"]),
        (.edit(from: IPVSService(key: .fwmark(7, .v4), scheduler: "rr"), to: IPVSService(key: .fwmark(7, .v4), scheduler: "sh", persistence: 60)),
         ["ipvsadm -E -f 7 -s sh -p 60"]),
        (.delete(IPVSService(key: .tcp(ip("fd00::200"), port: 80), scheduler: "rr")), ["ipvsadm -D -t '[fd00::200]:80'"]),
        (.editDestination(.fwmark(8, .v6), from: IPVSDestination(address: ip("fd00::11"), port: 0, method: .directRouting, weight: 1),
                          to: IPVSDestination(address: ip("fd00::11"), port: 0, method: .directRouting, weight: 5, upper: 9, lower: 4)),
         ["ipvsadm -e -f 8 -6 -r '[fd00::11]:0' -g -w 5 -x 9 -y 4"]),
        (.drainDestination(.tcp(ip("10.0.0.100"), port: 80), IPVSDestination(address: ip("10.0.0.12"), port: 80, method: .tunnel, weight: 3, upper: 7)),
         ["ipvsadm -e -t 10.0.0.100:80 -r 10.0.0.12:80 -i -w 0 -x 7"]),
        (.drainDestination(.tcp(ip("10.0.0.100"), port: 80), IPVSDestination(address: ip("10.0.0.12"), port: 80, method: .tunnel, weight: 0)), []),
        (.deleteDestination(.tcp(ip("10.0.0.100"), port: 80), IPVSDestination(address: ip("10.0.0.12"), port: 80, method: .tunnel, weight: 0)),
         ["ipvsadm -d -t 10.0.0.100:80 -r 10.0.0.12:80"]),
    ])
    func commandsOfEachChange(change: IPVSService.Change, commands: [String]) {
        #expect(change.commands.map(IPVSAdm.shell) == commands)
    }

    /// `-L -n -c` as the lab's director printed it (an IPv6 entry and a firewall-mark one added).
    @Test func connectionEntriesRead() {
        let listing = """
            IPVS connection entries
            pro expire state       source             virtual            destination
            TCP 14:58  ESTABLISHED 192.168.0.100:20001 192.168.0.200:80   10.0.0.11:80
            TCP 01:55  TIME_WAIT   192.168.0.101:41234 192.168.0.200:80   10.0.0.12:80
            TCP 00:59  SYN_RECV    [fd00:1::100]:50000 [fd00:1::200]:80   [fd00:2::13]:80
            TCP 14:59  ESTABLISHED 192.168.0.100:20002 FWM 5              10.0.0.13:80
            """
        let entries = IPVSAdm.connectionEntries(listing: listing)
        #expect(entries.map { "\($0.protocolName) \($0.state) \($0.client) \($0.virtual) \($0.destination)" } == [
            "TCP ESTABLISHED 192.168.0.100:20001 192.168.0.200:80 10.0.0.11:80",
            "TCP TIME_WAIT 192.168.0.101:41234 192.168.0.200:80 10.0.0.12:80",
            "TCP SYN_RECV [fd00:1::100]:50000 [fd00:1::200]:80 [fd00:2::13]:80",
        ])
    }
}
