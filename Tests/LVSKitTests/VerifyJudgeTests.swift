import Testing
@testable import LVSKit

/// `lvsctl verify`'s judging, one rule per scheduler, without a network.
struct VerifyJudgeTests {
    static let here = SourceLocation(file: "t", line: 1, column: 1)

    static func service(_ scheduler: Scheduler, weights: [Int] = [1, 1], persistence: Int? = nil) -> VirtualService {
        let servers = weights.enumerated().map { index, weight in
            RealServer(host: "rs\(index + 1)", rip: try! IPAddress.parse("10.0.0.\(index + 11)").get(), port: 80, weight: weight, location: here)
        }
        return VirtualService(vip: try! IPAddress.parse("10.0.0.100").get(),
                              address: .socket(.tcp, try! IPAddress.parse("10.0.0.100").get(), port: 80),
                              scheduler: scheduler, persistence: persistence, realServers: servers, location: here)
    }

    static func verdicts(_ scheduler: Scheduler, _ answers: [String?], weights: [Int] = [1, 1], persistence: Int? = nil) -> [String: Bool] {
        Dictionary(DistributionJudge.judge(service(scheduler, weights: weights, persistence: persistence), answers: answers)
            .map { ($0.check, $0.passed) }) { a, _ in a }
    }

    @Test func roundRobinAlternates() {
        let v = Self.verdicts(.rr, ["rs2", "rs1", "rs2", "rs1", "rs2", "rs1"])
        #expect(v["answers cycle in a fixed order"] == true)
        #expect(v["every real server with weight > 0 answers"] == true)
        #expect(v["every request answered"] == true)
    }

    @Test func roundRobinThatDoesNotCycleFails() {
        #expect(Self.verdicts(.rr, ["rs1", "rs2", "rs2", "rs1"])["answers cycle in a fixed order"] == false)
        #expect(Self.verdicts(.rr, ["rs1", "rs1", "rs1", "rs1"])["every real server with weight > 0 answers"] == false)
    }

    @Test func roundRobinOfThreeKeepsItsOrder() {
        let v = Self.verdicts(.rr, ["rs3", "rs1", "rs2", "rs3", "rs1", "rs2", "rs3"], weights: [1, 1, 1])
        #expect(v["answers cycle in a fixed order"] == true)
    }

    @Test func weightedRoundRobinOneToThree() {
        let answers = ["rs2", "rs2", "rs1", "rs2", "rs2", "rs2", "rs1", "rs2", "rs2", "rs2", "rs1", "rs2"]
        let v = Self.verdicts(.wrr, answers, weights: [1, 3])
        #expect(v["counts follow the weights (rs1 1 : rs2 3)"] == true)
        let skewed = ["rs2", "rs2", "rs2", "rs2", "rs1", "rs1", "rs2", "rs2"]
        #expect(Self.verdicts(.wrr, skewed, weights: [1, 3])["counts follow the weights (rs1 1 : rs2 3)"] == false)
    }

    @Test func weightedRoundRobinReducesByTheGCD() {
        // 2:4 cycles as 1:2.
        let v = Self.verdicts(.wrr, ["rs2", "rs1", "rs2", "rs2", "rs1", "rs2"], weights: [2, 4])
        #expect(v["counts follow the weights (rs1 2 : rs2 4)"] == true)
    }

    @Test func sourceHashKeepsOneClientOnOneServer() {
        #expect(Self.verdicts(.sh, ["rs2", "rs2", "rs2"])["sh: one client always reaches the same server"] == true)
        #expect(Self.verdicts(.sh, ["rs2", "rs1", "rs2"])["sh: one client always reaches the same server"] == false)
    }

    @Test func persistenceKeepsOneClientOnOneServer() {
        let v = Self.verdicts(.rr, ["rs1", "rs1", "rs1", "rs1"], persistence: 300)
        #expect(v["persistence keeps one client on one server"] == true)
        #expect(v["answers cycle in a fixed order"] == nil, "persistence overrides the scheduler's order")
    }

    @Test func weightZeroReceivesNothing() {
        #expect(Self.verdicts(.rr, ["rs1", "rs1", "rs1"], weights: [1, 0])["weight 0 receives nothing"] == true)
        #expect(Self.verdicts(.rr, ["rs1", "rs2", "rs1"], weights: [1, 0])["weight 0 receives nothing"] == false)
    }

    @Test(arguments: [Scheduler.lc, .wlc, .sed, .nq])
    func connectionSchedulersUseEveryServer(scheduler: Scheduler) {
        #expect(Self.verdicts(scheduler, ["rs1", "rs2", "rs1"])["every real server with weight > 0 answers"] == true)
        #expect(Self.verdicts(scheduler, ["rs1", "rs1", "rs1"])["every real server with weight > 0 answers"] == false)
    }

    @Test(arguments: [Scheduler.dh, .lblc, .lblcr])
    func destinationSchedulersStickToOneServer(scheduler: Scheduler) {
        #expect(Self.verdicts(scheduler, ["rs2", "rs2"])["\(scheduler.rawValue): one destination goes to one server"] == true)
    }

    @Test func failoverUsesTheHighestWeight() {
        #expect(Self.verdicts(.fo, ["rs2", "rs2"], weights: [1, 5])["fo: the highest-weight server takes the load"] == true)
        #expect(Self.verdicts(.fo, ["rs1", "rs2"], weights: [1, 5])["fo: the highest-weight server takes the load"] == false)
    }

    @Test func missingAnswersAreCounted() {
        #expect(Self.verdicts(.rr, ["rs1", nil, "rs1"])["every request answered"] == false)
    }

    @Test func responsesAreMatchedToTestPages() throws {
        let inventory = try loadInventory("dr.yml")
        let service = inventory.services[0]
        #expect(DistributionJudge.identify("I am RealServer2 192.168.229.134\n", inventory: inventory, service: service) == "rs2")
        #expect(DistributionJudge.identify("<html>It works!</html>", inventory: inventory, service: service) == nil)
    }
}

struct IPVSTableTests {
    @Test func liveTableMatchingTheInventory() throws {
        let inventory = try loadInventory("dr.yml")
        var live = IPVSTable.parse(save: ScriptRenderer.ipvsadmSave(inventory))
        live.addThresholds("""
            Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn
            TCP  192.168.229.111:80 rr
              -> 192.168.229.132:80           0          0          0          0
              -> 192.168.229.134:80           0          0          0          0
            """, service: "-t 192.168.229.111:80")
        let verdicts = live.compare(toDesired: IPVSTable.desired(inventory))
        #expect(verdicts.count == 1)
        #expect(verdicts[0].passed, "\(verdicts[0].detail)")
    }

    @Test func differencesAreSpelledOut() throws {
        let inventory = try loadInventory("dr.yml")
        let live = IPVSTable.parse(save: """
            -A -t 192.168.229.111:80 -s wlc
            -a -t 192.168.229.111:80 -r 192.168.229.132:80 -m -w 1
            -a -t 192.168.229.111:80 -r 192.168.229.199:80 -g -w 1
            """)
        let verdict = try #require(live.compare(toDesired: IPVSTable.desired(inventory)).first)
        #expect(!verdict.passed)
        #expect(verdict.detail == "scheduler wlc, wanted rr; 192.168.229.132:80 forwards with -m, wanted -g; real server 192.168.229.134:80 missing; unexpected real server 192.168.229.199:80")
    }

    @Test func missingServiceIsReported() throws {
        let verdicts = IPVSTable().compare(toDesired: IPVSTable.desired(try loadInventory("nat.yml")))
        #expect(verdicts.map(\.passed) == [false])
    }
}
