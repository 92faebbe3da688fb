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
        let before = try await lab.snapshots(of: ["director", "director2", "director3"] + lab.realServerNames)
        try await lab.startRouter()
        let check = "health_check: { type: http, path: /, status: [200], text: I am, interval: 1, timeout: 1, retries: 1, retry_delay: 1 }"
        // The director alone with rs1 and rs2; then director2 and director3 join as rs3 is added
        // between them in the inventory: the director's keepalived reload puts rs3 at the head of
        // its list, and the others' keepalived, made from nothing, must list them the same.
        let alone = try lab.cluster(lab.ecmpInventory(servers: ["rs1", "rs2"], moreDirectors: [], settings: [check]), name: "e2e-health-gate",
                                    library: Self.library.get())
        let first = await alone.run(.up)
        #expect(first.exitCode == 0, "up with the director alone:\n\(first.text)\n\(failures(first))")
        let text = lab.ecmpInventory(servers: ["rs1", "rs3", "rs2"], moreDirectors: ["director2", "director3"], settings: [check])
        let directors = ["director", "director2", "director3"]
        let cluster = try lab.cluster(text, name: "e2e-health-gate", library: Self.library.get())
        let up = await cluster.run(.up)
        #expect(up.exitCode == 0, "up:\n\(up.text)\n\(failures(up))")
        #expect(try await waitFor("a next hop per director", timeout: 20) { try await lab.nextHops().count == 3 } != nil)
        let tables = try await Self.directorTables(lab, directors)
        #expect(tables.same && IPVSAdm.table(listing: tables.listings[2]).kernelOrder.values.first?.map(\.description)
                    == ["10.0.0.13:80", "10.0.0.12:80", "10.0.0.11:80"], "\(tables.listings)")
        let again = await cluster.run(.up)
        #expect(again.exitCode == 0 && again.hosts.allSatisfy { $0.changes.isEmpty }, "a second up changes nothing:\n\(again.text)")

        // Every web server stopped: every director withdraws the VIP.
        for server in ["rs1", "rs2", "rs3"] { try await stopWebServer(lab, server) }
        let withdrawn = try await waitFor("the VIP withdrawn", timeout: 15) { try await lab.nextHops().isEmpty }
        #expect(withdrawn != nil)
        // bird reads its file again on both (`birdc configure`, as after a change of the file):
        // it enables the VIP's protocol, and the router has the route again with no real server
        // up. plan calls it drift; up (the directors alone, so that the web servers stay down)
        // tells bird keepalived's verdict again.
        for director in directors { _ = try await lab.runChecked(director, "\(BirdConfig.birdc) configure", what: "birdc configure") }
        #expect(try await waitFor("the VIP announced again by bird's configure", timeout: 10) { try await lab.nextHops().count == 3 } != nil)
        let drift = await cluster.runner.run(.plan, cluster: cluster.cluster, only: Set(directors), inventory: cluster.inventory)
        #expect(drift.hosts.count == 3 && drift.hosts.allSatisfy { $0.changes.map(\.change.resource) == ["bird /etc/bird/lvsctl.conf"] }, "\(drift.text)")
        let told = await cluster.runner.run(.up, cluster: cluster.cluster, only: Set(directors), inventory: cluster.inventory)
        #expect(told.exitCode == 0, "\(told.text)\n\(failures(told))")
        #expect(try await waitFor("the VIP withdrawn again", timeout: 10) { try await lab.nextHops().isEmpty } != nil)

        // rs1 back: announced again by all three.
        _ = try await lab.run("rs1", "setsid busybox httpd -f -p 80 -h /var/lib/lvsctl/www/80 </dev/null >/dev/null 2>&1 & echo $! > /var/lib/lvsctl/httpd-80.pid")
        let announced = try await waitFor("the VIP announced again", timeout: 15) { try await lab.nextHops().count == 3 }
        #expect(announced != nil)
        print("health gate: every web server stopped → VIP withdrawn after \(withdrawn.map { String(format: "%.1f", $0) } ?? "never") s; "
              + "rs1 back → announced after \(announced.map { String(format: "%.1f", $0) } ?? "never") s")
        let answers = try await Self.answers(lab, ports: 42200...42209)
        #expect(answers == Array(repeating: "RealServer1", count: 10), "\(answers)")

        let healed = await cluster.run(.up)
        #expect(healed.exitCode == 0, "\(healed.text)\n\(failures(healed))")
        let down = await cluster.run(.down)
        #expect(down.exitCode == 0, "down:\n\(down.text)\n\(failures(down))")
        #expect(try await waitFor("the VIP withdrawn", timeout: 10) { try await lab.nextHops().isEmpty } != nil)
        try await lab.stopRouter()
        let differences = try await lab.differences(from: before)
        #expect(differences.isEmpty, "differs after down:\n\(differences)")
    }
}
