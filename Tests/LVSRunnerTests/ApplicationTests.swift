import Foundation
import LVSKit
import LVSLab
import LVSRunner
import Testing

/// Real servers that already serve the application (`test_page: false`), and ports already taken.
@Suite(.serialized) struct ApplicationTests {
    /// The application's own web server on host2 (busybox httpd serving a page of its own).
    static func startApplication(_ lab: Lab, _ host: String) async throws {
        _ = try await lab.shell(on: lab[host], """
            mkdir -p /srv/app && echo "the application on \(host)" > /srv/app/index.html
            setsid busybox httpd -f -p 80 -h /srv/app </dev/null >/dev/null 2>&1 & echo $! > /srv/app.pid
            for i in $(seq 50); do ss -Hltn 'sport = :80' | grep -q . && break; sleep 0.05; done
            """)
    }

    static func stopApplication(_ lab: Lab, _ host: String) async throws {
        _ = try await lab.shell(on: lab[host], "kill $(cat /srv/app.pid); rm -rf /srv/app /srv/app.pid")
    }

    @Test func applicationServesThePortLvsctlOnlyChecks() async throws {
        try await Lab.with(hosts: 4) { lab in
            let cluster = try LocalCluster(lab, mode: "dr", extra: "  test_page: false")
            let before = try await cluster.snapshot("host2")
            // Nothing listens yet: up says so, and which host and port.
            let refused = await cluster.run(.up, only: ["host2"])
            let failed = try #require(outcome(refused, "host2")?.changes.first { $0.status == .failed })
            #expect(failed.change.resource == "listening tcp 80")
            #expect(failed.output?.hasPrefix("nothing listens on tcp port 80 here: with test_page: false the application itself must serve the service") == true, "\(failed.output ?? "")")
            #expect(await cluster.run(.down, only: ["host2"]).exitCode == 0)
            #expect(try await cluster.snapshot("host2") == before)

            try await Self.startApplication(lab, "host2")
            let withApp = try await cluster.snapshot("host2")
            let up = await cluster.run(.up, only: ["host2"])
            #expect(up.exitCode == 0, "\(up.text)\n\(failures(up))")
            let resources = outcome(up, "host2")?.changes.map(\.change.resource) ?? []
            #expect(!resources.contains { $0.hasPrefix("file ") || $0.hasPrefix("web-server ") }, "lvsctl wrote a page or started a server: \(resources)")
            #expect(outcome(await cluster.run(.up, only: ["host2"]), "host2")?.changes == [])
            #expect(await cluster.run(.down, only: ["host2"]).exitCode == 0)
            // The application still runs: lvsctl did not start it, so it does not stop it.
            #expect(try await cluster.snapshot("host2") == withApp)
            try await Self.stopApplication(lab, "host2")
        }
    }

    /// A test page is wanted but another web server holds the port: say which, and the way out.
    @Test func portAlreadyServedIsExplained() async throws {
        try await Lab.with(hosts: 4) { lab in
            try await Self.startApplication(lab, "host2")
            let cluster = try LocalCluster(lab, mode: "dr")
            let up = await cluster.run(.up, only: ["host2"])
            let failed = try #require(outcome(up, "host2")?.changes.first { $0.status == .failed })
            #expect(failed.change.resource == "web-server 80")
            #expect(failed.output?.contains("port 80 is already served by another program (users:((\"busybox\",pid=") == true, "\(failed.output ?? "")")
            #expect(failed.output?.contains("set test_page: false to balance it as it is") == true)
            #expect(await cluster.run(.down, only: ["host2"]).exitCode == 0)
            try await Self.stopApplication(lab, "host2")
        }
    }
}
