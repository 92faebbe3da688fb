import Foundation
import LVSKit
import LVSLab
import LVSRunner
import Testing

/// Issue 19 on the lab VM: active-active directors with health checks. keepalived on each
/// director makes its table (a director joining later lists the real servers as its peer does)
/// and, when the last real server fails, withdraws the VIP from the router (quorum_down →
/// birdc disable); when one returns, announces it again.
extension VMLabEndToEndTests {
    @Test func healthGatedAnnouncement() async throws {
        let lab = try labVM()
        let before = try await lab.snapshots()
        try await lab.startRouter()
        let check = "health_check: { type: http, path: /, status: [200], text: I am, interval: 1, timeout: 1, retries: 1, retry_delay: 1 }"
        // The director alone with rs1 and rs2; then director2 joins as rs3 is added between them
        // in the inventory: the director's keepalived reload puts rs3 at the head of its list,
        // and director2's keepalived, made from nothing, must list them the same.
        let alone = try lab.cluster(lab.ecmpInventory(servers: ["rs1", "rs2"], secondDirector: false, settings: [check]), name: "e2e-health-gate",
                                    library: Self.library.get())
        let first = await alone.run(.up)
        #expect(first.exitCode == 0, "up with the director alone:\n\(first.text)\n\(failures(first))")
        let text = lab.ecmpInventory(servers: ["rs1", "rs3", "rs2"], settings: [check])
        let cluster = try lab.cluster(text, name: "e2e-health-gate", library: Self.library.get())
        let up = await cluster.run(.up)
        #expect(up.exitCode == 0, "up:\n\(up.text)\n\(failures(up))")
        #expect(try await waitFor("a next hop per director", timeout: 20) { try await lab.nextHops().count == 2 } != nil)
        let tables = [try await lab.run("director", IPVSAdm.readThresholds), try await lab.run("director2", IPVSAdm.readThresholds)]
        #expect(TableJudge.sameOnEveryDirector([("director", IPVSAdm.table(listing: tables[0])), ("director2", IPVSAdm.table(listing: tables[1]))])
                    .allSatisfy { $0.passed }, "\(tables)")
        #expect(IPVSAdm.table(listing: tables[1]).kernelOrder.values.first?.map(\.description) == ["10.0.0.13:80", "10.0.0.12:80", "10.0.0.11:80"],
                "\(tables)")
        let again = await cluster.run(.up)
        #expect(again.exitCode == 0 && again.hosts.allSatisfy { $0.changes.isEmpty }, "a second up changes nothing:\n\(again.text)")

        // Every web server stopped: both directors withdraw the VIP.
        for server in ["rs1", "rs2", "rs3"] { try await stopWebServer(lab, server) }
        let withdrawn = try await waitFor("the VIP withdrawn", timeout: 15) { try await lab.nextHops().isEmpty }
        #expect(withdrawn != nil)
        // bird's file changes meanwhile (hold time 3 → 4 s; the directors alone, so that the web
        // servers stay down): `birdc configure` enables the VIP's protocol again, and lvsctl tells
        // bird keepalived's verdict again at once.
        let changed = try lab.cluster(text.replacingOccurrences(of: "hold_time: 3", with: "hold_time: 4"), name: "e2e-health-gate",
                                      library: Self.library.get())
        let reconfigured = await changed.runner.run(.up, cluster: changed.cluster, only: ["director", "director2"], inventory: changed.inventory)
        #expect(reconfigured.exitCode == 0 && reconfigured.hosts.allSatisfy { $0.changes.contains { $0.change.resource.hasPrefix("bird ") } },
                "\(reconfigured.text)\n\(failures(reconfigured))")
        try await Task.sleep(for: .seconds(3))
        #expect(try await lab.nextHops().isEmpty, "announced again after bird read its new file, with no real server up")

        // rs1 back: announced again by both.
        _ = try await lab.run("rs1", "setsid busybox httpd -f -p 80 -h /var/lib/lvsctl/www/80 </dev/null >/dev/null 2>&1 & echo $! > /var/lib/lvsctl/httpd-80.pid")
        let announced = try await waitFor("the VIP announced again", timeout: 15) { try await lab.nextHops().count == 2 }
        #expect(announced != nil)
        print("health gate: every web server stopped → VIP withdrawn after \(withdrawn.map { String(format: "%.1f", $0) } ?? "never") s; "
              + "rs1 back → announced after \(announced.map { String(format: "%.1f", $0) } ?? "never") s")
        let answers = try await Self.answers(lab, ports: 42200...42209)
        #expect(answers == Array(repeating: "RealServer1", count: 10), "\(answers)")

        let healed = await changed.run(.up)
        #expect(healed.exitCode == 0, "\(healed.text)\n\(failures(healed))")
        let down = await changed.run(.down)
        #expect(down.exitCode == 0, "down:\n\(down.text)\n\(failures(down))")
        #expect(try await waitFor("the VIP withdrawn", timeout: 10) { try await lab.nextHops().isEmpty } != nil)
        try await lab.stopRouter()
        let differences = try await lab.differences(from: before)
        #expect(differences.isEmpty, "differs after down:\n\(differences)")
    }
}
