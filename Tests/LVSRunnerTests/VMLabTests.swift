import Foundation
import LVSKit
import LVSLab
import LVSRunner
import SSHTransport
import Testing

/// One lab VM (a real IPVS kernel) for every test of the suite: booted once, stopped by PID at
/// the end whatever happens.
struct LabVMTrait: SuiteTrait, TestScoping {
    @TaskLocal static var current: VMLab?

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let lab = VMLab(folder: "/var/tmp/lvsctl-lab-test-\(getpid())", realServers: 3, portBase: 2300)
        do {
            try await lab.up { print("lab: \($0)") }
            try await Self.$current.withValue(lab) { try await function() }
        } catch {
            try await lab.down()
            throw error
        }
        try await lab.down()
        #expect(!lab.isRunning, "no qemu left behind")
    }
}

extension Trait where Self == LabVMTrait {
    static var labVM: Self { LabVMTrait() }
}

/// The repository's playbooks and templates, for the VM suites.
let labLibrary = Result { try PlaybookLibrary.load(from: repositoryRoot) }

func labVM() throws -> VMLab { try #require(LabVMTrait.current, "the lab VM did not start") }

/// The service's total connections so far (`ipvsadm -Ln --stats --exact`): only a service
/// deleted and created again would see it go down.
func connectionsCounter(_ lab: VMLab, vip: String = LabScenario.vip) async throws -> Int {
    let table = IPVSAdm.table(listing: try await lab.run("director", "\(IPVSAdm.readStats) -t \(vip):80"))
    return table.serviceStats.values.first?.connections ?? -1
}

/// The mission end to end on a real IPVS kernel: each mode up, proven, idempotent and restored;
/// every scheduler and kind of service; a keepalived pair broken on purpose; a live cluster
/// changed under client traffic; two runs at once; runs killed. One VM, one test at a time: two
/// VMs side by side made each test 2 to 2.6 times slower on this 2-core machine (emulation
/// wants more than a core per VM), so nothing was gained.
@Suite(.serialized, .labVM) struct VMLabEndToEndTests {
    static let library = labLibrary

    /// NAT, DR and TUN: up, round-robin through the VIP over the three real servers, a second up
    /// changes nothing, down leaves every host as its snapshot from before, the VIP goes silent.
    @Test(arguments: ["nat", "dr", "tun"])
    func mode(_ mode: String) async throws {
        let lab = try labVM()
        let cluster = try lab.cluster(lab.inventory(mode: mode, metrics: true), name: "e2e-\(mode)", library: Self.library.get())
        let result = try await LabScenario.mode(cluster) { print($0) }
        #expect(result.up.exitCode == 0, "\(mode) up:\n\(result.up.text)\n\(failures(result.up))")
        // The director: its resources and table, the records of the services it creates (while
        // the real servers work), the IPVS batch.
        #expect(result.up.hosts.allSatisfy { $0.roundTrips == ($0.host == "director" ? 3 : 1) }, "\(result.up.hosts.map { ($0.host, $0.roundTrips) })")
        #expect(result.verify.passed, "\(mode) verify: \(result.verify.text(cluster.inventory))")
        let service = try #require(result.verify.services.first)
        #expect(service.counts == ["rs1": 4, "rs2": 4, "rs3": 4], "\(mode): \(service.counts)")
        #expect(service.verdicts.contains { $0.kind == .cyclesInOrder && $0.passed })
        #expect(result.verify.table.map(\.kind) == [.tableMatches] && result.verify.table.allSatisfy(\.passed))
        #expect(result.changedAgain == 0, "\(mode) second up:\n\(result.again.text)")
        #expect(result.down.exitCode == 0, "\(mode) down:\n\(result.down.text)\n\(failures(result.down))")
        #expect(result.differences.isEmpty, "\(mode): differs after down:\n\(result.differences)")
        #expect(result.silentAfterDown, "\(mode): the VIP still answers after down")
        // Scraped from the client: three real servers' weight, active and inactive connections,
        // their desired weight and drain, the service's info and the five totals.
        let metrics = try #require(result.metrics, "\(mode): no scrape")
        #expect(metrics.disagreements.isEmpty, "\(mode): node exporter disagrees:\n\(metrics.disagreements.joined(separator: "\n"))")
        #expect(metrics.samples == 3 * 5 + 1 + 5, "\(mode): \(metrics.samples) IPVS samples")
    }
}

extension VMLabEndToEndTests {
    /// Real servers that already serve the application (`test_page: false`): lvsctl writes no
    /// page and starts no server, and verify tells the servers apart by IPVS's counters.
    @Test func applicationServersJudgedByCounters() async throws {
        let lab = try labVM()
        let servers = ["rs1", "rs2", "rs3"]
        for host in servers {
            _ = try await lab.run(host, """
                mkdir -p /srv/app && echo "the application" > /srv/app/index.html
                setsid busybox httpd -f -p 80 -h /srv/app </dev/null >/dev/null 2>&1 & echo $! > /srv/app.pid
                """)
        }
        let before = try await lab.snapshots(of: lab.directorAndRealServers)
        let cluster = try lab.cluster(lab.inventory(mode: "dr", settings: []).replacingOccurrences(of: "  client: client", with: "  client: client\n  test_page: false"),
                                      name: "e2e-app", library: Self.library.get())
        let up = await cluster.run(.up)
        #expect(up.exitCode == 0, "\(up.text)\n\(failures(up))")
        #expect(!up.hosts.flatMap(\.changes).contains { $0.change.resource.hasPrefix("web-server ") || $0.change.resource.hasPrefix("file ") })
        let report = await cluster.verify()
        #expect(report.passed, "\(report.text(cluster.inventory))")
        let service = try #require(report.services.first)
        #expect(service.counts == ["rs1": 4, "rs2": 4, "rs3": 4], "\(service.counts)")
        #expect(service.verdicts.contains { $0.kind == .sharesFollowWeights && $0.passed })
        let down = await cluster.run(.down)
        #expect(down.exitCode == 0, "\(down.text)")
        #expect(try await lab.differences(from: before).isEmpty, "the applications' hosts changed")
        for host in servers { _ = try await lab.run(host, "kill $(cat /srv/app.pid); rm -rf /srv/app /srv/app.pid") }
    }
}
