import LVSKit
import LVSLab
import Testing

/// The lab's scrape check on recorded text: node exporter 1.5's output as the lab's director
/// gave it, ipvsadm's listings and /proc/net/ip_vs_stats, so that a disagreement is found (a
/// check that can fail) and agreement is not assumed.
struct MetricsScrapeTests {
    static let labels = #"local_address="192.168.0.200",local_mark="",local_port="80",proto="TCP",remote_address="10.0.0.11",remote_port="80""#
    static func exporter(weight: Int = 1, desired: Int = 1, connections: Int = 7) -> String {
        """
        # HELP node_ipvs_backend_weight The current backend weight.
        # TYPE node_ipvs_backend_weight gauge
        node_ipvs_backend_connections_active{\(labels)} 0
        node_ipvs_backend_connections_inactive{\(labels)} 3
        node_ipvs_backend_weight{\(labels)} \(weight)
        node_ipvs_connections_total \(connections)
        node_ipvs_incoming_bytes_total 2779
        node_ipvs_incoming_packets_total 42
        node_ipvs_outgoing_bytes_total 0
        node_ipvs_outgoing_packets_total 0
        node_uname_info{domainname="(none)",machine="x86_64",release="6.1.0-27-amd64",version="#1 SMP PREEMPT_DYNAMIC Debian"} 1
        lvsctl_backend_desired_weight{\(labels)} \(desired)
        lvsctl_backend_draining{\(labels)} 0
        """
    }

    static let table = IPVSAdm.table(
        save: "-A -t 192.168.0.200:80 -s rr\n-a -t 192.168.0.200:80 -r 10.0.0.11:80 -g -w 1\n",
        thresholds: """
            Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn
              -> RemoteAddress:Port
            TCP  192.168.0.200:80 rr
              -> 10.0.0.11:80                 0          0          0          3
            """,
        stats: """
            Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
              -> RemoteAddress:Port
            TCP  192.168.0.200:80                    3       18        0     1191        0
              -> 10.0.0.11:80                        3       18        0     1191        0
            """)
    static let totals = MetricsScrape.kernelTotals("""
           Total Incoming Outgoing         Incoming         Outgoing
           Conns  Packets  Packets            Bytes            Bytes
               7       2A        0              ADB                0
        """)
    static let desired = DesiredCluster(try! InventoryParser.parse("""
        hosts: { director: 192.168.0.10, rs1: 10.0.0.11 }
        cluster:
          mode: dr
          director: { host: director, interface: eth0, inner_interface: eth1, dip: 10.0.0.1/24 }
          services: [{ vip: 192.168.0.200, port: 80, scheduler: rr, real_servers: [rs1] }]
        """, file: "inv.yml").get())

    @Test func agreementIsFound() {
        #expect(Self.totals == [7, 42, 0, 2779, 0])
        let scrape = MetricsScrape(text: Self.exporter())
        #expect(scrape.samples.count == 10)   // node_uname_info is no IPVS family
        #expect(scrape.disagreements(table: Self.table, totals: Self.totals, desired: Self.desired) == [])
    }

    @Test func eachDisagreementIsNamed() {
        let scrape = MetricsScrape(text: Self.exporter(weight: 2, desired: 0, connections: 2))
        let found = scrape.disagreements(table: Self.table, totals: Self.totals, desired: Self.desired)
        let where_ = "local_address=192.168.0.200,local_port=80,local_mark=,proto=TCP,remote_address=10.0.0.11,remote_port=80"
        #expect(found == [
            "node_ipvs_backend_weight{\(where_)}: 2.0, expected 1",
            "node_ipvs_connections_total{}: 2.0, expected 7",
            "lvsctl_backend_desired_weight{\(where_)}: 0.0, expected 1",
        ])
    }
}
