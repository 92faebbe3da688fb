import Testing
@testable import LVSKit

/// `status --watch`'s view, line by line, from two readings of a director as ipvsadm prints them.
struct WatchFrameTests {
    static let save = """
        -A -t 192.168.0.200:80 -s wrr
        -a -t 192.168.0.200:80 -r 10.0.0.11:80 -g -w 0
        -a -t 192.168.0.200:80 -r 10.0.0.12:80 -g -w 3
        -a -t 192.168.0.200:80 -r 10.0.0.13:80 -g -w 1
        -A -u 192.168.0.200:53 -s rr

        """
    static func reading(connections: Int, bytes: Int) -> String {
        """
        Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
          -> RemoteAddress:Port
        TCP  192.168.0.200:80                 \(connections)       72        0     \(bytes)        0
          -> 10.0.0.11:80                        0        0        0        0        0
          -> 10.0.0.12:80                 \(connections)       72        0     \(bytes)        0
          -> 10.0.0.13:80                        0        0        0        0        0
        UDP  192.168.0.200:53                    0        0        0        0        0

        """
    }
    static let thresholds = """
        Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn
          -> RemoteAddress:Port
        TCP  192.168.0.200:80 wrr
          -> 10.0.0.11:80                 0          0          1          4
          -> 10.0.0.12:80                 0          0          2          7
          -> 10.0.0.13:80                 0          0          0          0

        """
    /// The inventory wants rs1 (10.0.0.11) at weight 2, no longer names rs3, names rs4 that the
    /// table lacks (keepalived's health check took it out); no UDP service.
    static let desired = IPVSAdm.parseSave("""
        -A -t 192.168.0.200:80 -s wrr
        -a -t 192.168.0.200:80 -r 10.0.0.11:80 -g -w 2
        -a -t 192.168.0.200:80 -r 10.0.0.12:80 -g -w 3
        -a -t 192.168.0.200:80 -r 10.0.0.14:80 -g -w 1
        """)

    func sample(_ time: Double, connections: Int, bytes: Int, holds: Bool? = nil) -> WatchSample {
        WatchSample(director: "director", time: time,
                    table: IPVSAdm.table(save: Self.save, thresholds: Self.thresholds, stats: Self.reading(connections: connections, bytes: bytes)),
                    holdsVIP: holds)
    }

    @Test func ratesDrainedAndLeaving() {
        let lines = WatchFrame.lines(desired: Self.desired, samples: [sample(12, connections: 30, bytes: 9000, holds: true)],
                                     earlier: ["director": sample(10, connections: 20, bytes: 5000)])
        #expect(lines == [
            "director director: active (holds the VIP)  (rates over 2.0 s)",
            "  ipvs tcp 192.168.0.200:80  wrr  5.0 conn/s  in 2.0 kB/s  out 0 B/s",
            "    → 10.0.0.11:80  weight 0  active 1  inactive 4  0.0 conn/s  in 0 B/s  out 0 B/s  drained (weight 0, wanted 2)",
            "    → 10.0.0.12:80  weight 3  active 2  inactive 7  5.0 conn/s  in 2.0 kB/s  out 0 B/s",
            "    → 10.0.0.13:80  weight 1  active 0  inactive 0  0.0 conn/s  in 0 B/s  out 0 B/s  draining (left the inventory)",
            "    → 10.0.0.14:80  not in the table (health check failing, or not added yet)",
            "  ipvs udp 192.168.0.200:53  rr  (not in the inventory)  0.0 conn/s  in 0 B/s  out 0 B/s",
        ])
    }

    /// No rate over less than IPVS's 2 s sums and a late timer: the newest reading old enough,
    /// else none yet.
    @Test func ratesOnlyOverTwoSeconds() {
        let older = [0.0, 1.0, 2.2].map { WatchSample(director: "director", time: $0, table: IPVSTable()) }
        #expect(WatchFrame.baseline(for: WatchSample(director: "director", time: 2.0), among: older) == nil)
        #expect(WatchFrame.baseline(for: WatchSample(director: "director", time: 3.0), among: older)?.time == 0.0)
        #expect(WatchFrame.baseline(for: WatchSample(director: "director", time: 3.6), among: older)?.time == 1.0)
        #expect(WatchFrame.baseline(for: WatchSample(director: "director", time: 4.7), among: older)?.time == 2.2)
    }

    @Test func firstReadingAndADirectorGone() {
        let gone = WatchSample(director: "director2", time: 3, error: "connection refused")
        let lines = WatchFrame.lines(desired: Self.desired, samples: [sample(1, connections: 30, bytes: 9000), gone], earlier: ["director2": gone])
        #expect(lines.first == "director director  (rates from the next refresh)")
        #expect(lines[1] == "  ipvs tcp 192.168.0.200:80  wrr  conns 30")
        #expect(lines.last == "director director2: unreachable (connection refused); trying again")
    }

    @Test(arguments: [(999.0, "999 B/s"), (1_500, "1.5 kB/s"), (2_500_000, "2.5 MB/s")])
    func byteRates(perSecond: Double, words: String) {
        #expect(WatchFrame.bytes(perSecond) == words)
    }
}
