import Foundation
import LVSKit
import LVSLab
import LVSRunner
import Testing

/// `bench/ecmp-loss` (issue 19's measurements), not part of the test run: it runs only when
/// `LVSCTL_BENCH_ECMP_LOSS` is set. Three active-active directors; director2 lost each way
/// `LVSCTL_BENCH_ROUNDS` times (default 5) with BFD and without, the same drill as the VM test;
/// then which flows the router moves between directors when one leaves and comes back, with a
/// plain multipath route (what bird installs) and with a resilient next-hop group.
extension VMLabEndToEndTests {
    static let benchEnvironment = ProcessInfo.processInfo.environment

    @Test(.enabled(if: benchEnvironment["LVSCTL_BENCH_ECMP_LOSS"] != nil))
    func ecmpLossMeasured() async throws {
        let lab = try labVM()
        let rounds = Int(Self.benchEnvironment["LVSCTL_BENCH_ROUNDS"] ?? "") ?? 5
        var rows: [String] = [], flows: [String] = []
        var drillsSoFar = 0
        for bfd in [true, false] {
            try await lab.startRouter(bfd: bfd)
            let text = lab.ecmpInventory(servers: ["rs1", "rs2", "rs3"], moreDirectors: ["director2", "director3"], bfd: bfd)
            let cluster = try lab.cluster(text, name: "bench-ecmp-loss", library: Self.library.get())
            let up = await cluster.run(.up)
            try #require(up.exitCode == 0, "up:\n\(up.text)\n\(failures(up))")
            try #require(try await waitFor("three next hops", timeout: 30) { try await lab.nextHops().count == 3 } != nil)
            for loss in DirectorLoss.allCases {
                var drills: [DirectorLossResult] = []
                for round in 1...rounds {
                    let drill = try await Self.loseDirector2(lab, cluster, loss, directors: ["director", "director2", "director3"],
                                                             firstPort: 20_000 + 100 * drillsSoFar)
                    drillsSoFar += 1
                    print("ecmp-loss: BFD \(bfd ? "on" : "off"), round \(round): \(drill)")
                    drills.append(drill)
                }
                rows.append(LossSummary(bfd: bfd, loss: loss, drills: drills).row)
            }
            if bfd { flows = try await FlowShare.measure(lab) }
            let down = await cluster.run(.down)
            #expect(down.exitCode == 0, "down:\n\(down.text)\n\(failures(down))")
            try await lab.stopRouter()
        }
        print((["ecmp-loss: results"] + LossSummary.header + rows + flows).joined(separator: "\n"))
    }
}

/// One failure kind's drills, as a table row: medians and worsts.
struct LossSummary {
    var bfd: Bool
    var loss: DirectorLoss
    var drills: [DirectorLossResult]

    static let header = [
        "| BFD | director2 lost by | held connections intact | on director2 when lost | others that changed director | new requests failed | longest gap median / worst | next hop gone median / worst |",
        "|---|---|---|---|---|---|---|---|",
    ]

    var row: String {
        func seconds(_ values: [Double]) -> String {
            let sorted = values.sorted()
            guard let worst = sorted.last else { return "never" }
            return String(format: "%.2f / %.2f s", sorted[sorted.count / 2], worst)
        }
        let gone = drills.map { $0.withdrawn ?? .infinity }
        let carried = drills.map(\.throughLost)
        return "| \(bfd ? "on" : "off") | \(loss.rawValue) | \(drills.map(\.intact).reduce(0, +)) of \(drills.map(\.held).reduce(0, +)) | "
            + "\(carried.min() ?? 0)–\(carried.max() ?? 0) | \(drills.map(\.othersMoved).reduce(0, +)) of \(drills.map(\.held).reduce(0, +) - carried.reduce(0, +)) | "
            + "\(drills.map(\.newFailed).reduce(0, +)) of \(drills.map(\.newRequests).reduce(0, +)) | "
            + "\(seconds(drills.map(\.longestGap))) | \(seconds(gone)) |"
    }
}

/// Which flows a router moves between directors when one leaves and comes back: 10 000 TCP
/// flows (the client's eight addresses × 1 250 ports) looked up with `ip route get` (L4 hash,
/// `fib_multipath_hash_policy` 1, as the lab router runs) in a table of the bench's own, with a
/// plain multipath route to the three directors and with a resilient next-hop group (512
/// buckets), each director lost in turn. No packet is sent: the kernel's choice is read.
enum FlowShare {
    static func script(vip: String, directors: [String]) -> String {
        let (a, b, c) = (directors[0], directors[1], directors[2])
        return """
        set -e
        q=/tmp/lvsctl-flows-$$
        for s in $(seq 100 107); do for p in $(seq 40000 41249); do
          echo "route get \(vip) from 192.168.0.$s mark 78 ipproto tcp sport $p dport 80"; done; done > $q
        look() { ip -batch $q | grep -o 'via [0-9.]*' | cut -d' ' -f2 > $q.$1; }
        count() {   # $1 route kind, $2 the lost director
          paste -d' ' $q.before $q.lost $q.back | awk -v kind=$1 -v lost=$2 '
            { n++; if ($1 == lost) on++; else if ($2 != $1) moved++; if ($3 != $2) back++; if ($3 != $1) differ++ }
            END { printf "| %s | %s | %d of %d | %d | %d | %d |\\n", kind, lost, on, n, moved, back, differ }'
        }
        ip rule add fwmark 78 lookup 78 pref 78
        trap 'set +e; ip route del \(vip)/32 table 78 2>/dev/null; ip nexthop del id 7810 2>/dev/null; for i in 1 2 3; do ip nexthop del id 780$i 2>/dev/null; done; ip rule del pref 78; rm -f $q $q.*' EXIT
        for lost in \(a) \(b) \(c); do
          rest=$(for d in \(a) \(b) \(c); do [ $d = $lost ] || echo "nexthop via $d"; done)
          ip route replace \(vip)/32 table 78 nexthop via \(a) nexthop via \(b) nexthop via \(c); look before
          ip route replace \(vip)/32 table 78 $rest; look lost
          ip route replace \(vip)/32 table 78 nexthop via \(a) nexthop via \(b) nexthop via \(c); look back
          count plain $lost
        done
        ip route del \(vip)/32 table 78
        ip nexthop add id 7801 via \(a) dev eth0; ip nexthop add id 7802 via \(b) dev eth0; ip nexthop add id 7803 via \(c) dev eth0
        i=0
        for lost in \(a) \(b) \(c); do
          i=$((i + 1)); rest=$(for n in 1 2 3; do [ $n = $i ] || printf '780%s/' $n; done)
          ip nexthop add id 7810 group 7801/7802/7803 type resilient buckets 512 idle_timer 0
          ip route replace \(vip)/32 table 78 nhid 7810; look before
          ip nexthop replace id 7810 group ${rest%/} type resilient buckets 512 idle_timer 0; look lost
          ip nexthop replace id 7810 group 7801/7802/7803 type resilient buckets 512 idle_timer 0; look back
          count resilient $lost
          ip route del \(vip)/32 table 78; ip nexthop del id 7810
        done
        """
    }

    /// The table's rows: per route kind and lost director, its flows, the others' flows that
    /// moved anyway, the flows that moved when it came back, and those not where they began.
    static func measure(_ lab: VMLab) async throws -> [String] {
        let directors = ["director", "director2", "director3"].map { lab.address(of: $0) }
        let text = try await lab.runChecked("client", script(vip: LabScenario.vip, directors: directors), what: "measuring the flows' next hops")
        return ["", "| route | director lost | its flows | others' flows moved | moved on its return | not back where they began |",
                "|---|---|---|---|---|---|"] + text.split(separator: "\n").map(String.init).filter { $0.hasPrefix("|") }
    }
}
