import Foundation
import LVSKit
import LVSLab
import LVSRunner
import Testing

/// Issue 21 on the lab VM: 300 services (one VIP, ports 10000–10299, rs1 and rs2 behind each,
/// `test_page: false`: bench/files/app.py already serves every port), made in one batch, then
/// the weight of every service changed while a client loop runs through the VIP: zero failed
/// requests, every weight as asked, and `down` leaves every host as it was.
extension VMLabEndToEndTests {
    static let scalePorts = 300

    static func scaleInventory(_ lab: VMLab, weight: Int) -> String {
        let head = lab.inventory(mode: "dr", servers: ["rs1", "rs2"]).components(separatedBy: "  services:")[0]
        let services = (0..<scalePorts).map { index in
            "    - { vip: \(LabScenario.vip), port: \(10_000 + index), scheduler: wrr, real_servers: "
                + "[{ host: rs1, rip: 10.0.0.11, weight: \(weight) }, { host: rs2, rip: 10.0.0.12, weight: \(weight) }] }"
        }
        return head + "  test_page: false\n  services:\n" + services.joined(separator: "\n") + "\n"
    }

    @Test func threeHundredServicesChangedLiveWithoutFailedRequests() async throws {
        let lab = try labVM()
        let library = try Self.library.get()
        let app = try String(contentsOfFile: "\(repositoryRoot)/bench/files/app.py", encoding: .utf8)
        for host in ["rs1", "rs2"] {
            _ = try await lab.run(host, """
                cat > /srv/app.py <<'LVSCTL_APP'
                \(app)
                LVSCTL_APP
                ulimit -n 4096
                setsid python3 /srv/app.py 10000 \(Self.scalePorts) /srv/app.pid </dev/null >/srv/app.log 2>&1 &
                for i in $(seq 300); do [ -s /srv/app.pid ] && break; sleep 0.1; done
                """)
        }
        let before = try await lab.snapshots(of: ["director", "rs1", "rs2"])
        let first = try lab.cluster(Self.scaleInventory(lab, weight: 1), name: "e2e-scale-1", library: library)
        let up = await first.run(.up)
        #expect(up.exitCode == 0, "\(up.text)\n\(failures(up))")
        let made = outcome(up, "director")?.changes.filter { $0.change.resource.hasPrefix("ipvs ") } ?? []
        #expect(made.count == Self.scalePorts * 3 && made.allSatisfy { $0.status == .done }, "a service and two real servers each")

        let loop = try await ClientLoop.start(lab, vip: LabScenario.vip, port: 10_000)
        let heavier = try lab.cluster(Self.scaleInventory(lab, weight: 2), name: "e2e-scale-2", library: library)
        let change = await heavier.run(.up)
        let traffic = try await loop.stop()
        #expect(change.exitCode == 0, "\(change.text)\n\(failures(change))")
        let edits = outcome(change, "director")?.changes ?? []
        #expect(edits.count == Self.scalePorts * 2 && edits.allSatisfy { $0.change.action == .change && $0.status == .done },
                "\(edits.prefix(3).map(\.change.text))")
        print("300 services, every weight changed: director \(outcome(change, "director")?.seconds ?? 0) s, "
              + "client loop \(traffic.requests) requests, \(traffic.failures.count) failed")
        #expect(traffic.requests > 0 && traffic.failures.isEmpty, "failed requests: \(traffic.failures.prefix(10))")
        let live = IPVSAdm.parseSave(try await lab.run("director", IPVSAdm.readSave))
        #expect(live.count == Self.scalePorts && live.allSatisfy { $0.destinations.map(\.weight) == [2, 2] })
        let again = await heavier.run(.up)
        #expect(again.hosts.allSatisfy { $0.changes.isEmpty }, "second up: \(again.text)")

        let down = await heavier.run(.down)
        #expect(down.exitCode == 0, "\(down.text)\n\(failures(down))")
        #expect(try await lab.differences(from: before).isEmpty)
        for host in ["rs1", "rs2"] { _ = try await lab.run(host, "kill $(cat /srv/app.pid); rm -f /srv/app.py /srv/app.pid /srv/app.log") }
    }
}
