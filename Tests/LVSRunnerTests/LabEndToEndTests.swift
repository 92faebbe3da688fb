import Foundation
import LVSKit
import LVSLab
import LVSRunner
import SSHTransport
import Testing

/// The mission end to end, on a real IPVS kernel (the lab VM): for NAT, DR and TUN, `up`, then
/// `verify` proves round-robin through the VIP and that ipvsadm matches the inventory, a second
/// `up` changes nothing, `down` leaves every host exactly as before, and the VIP goes silent.
/// Then wrr 1:3, sh and weight 0.
@Suite(.serialized) struct LabEndToEndTests {
    static let hosts = ["client", "director", "rs1", "rs2"]

    @Test func natDrTunAndSchedulersOnARealIPVSKernel() async throws {
        let lab = VMLab(folder: "/var/tmp/lvsctl-lab-test-\(getpid())", realServers: 2, portBase: 2300)
        do {
            try await lab.up { print("lab: \($0)") }
            try await exercise(lab)
        } catch {
            Issue.record("lab end to end: \(error)")
        }
        try await lab.down()
        #expect(!lab.isRunning, "no qemu left behind")
    }

    func exercise(_ lab: VMLab) async throws {
        let library = try PlaybookLibrary.load(from: repositoryRoot)
        for mode in ["nat", "dr", "tun"] {
            let (inventory, plans, runner, verifier) = try context(lab, text: lab.inventory(mode: mode), name: "e2e-\(mode)", library: library)
            var before: [String: String] = [:]
            for host in Self.hosts { before[host] = try await snapshot(lab, host) }

            let up = await runner.run(.up, plans: plans, inventory: inventory.file)
            #expect(up.exitCode == 0, "\(mode) up:\n\(up.text)\n\(failures(up))")
            #expect(up.hosts.allSatisfy { $0.roundTrips == 1 })

            let report = await verifier.verify(inventory, requests: 12, fromLocal: false)
            #expect(report.passed, "\(mode) verify: \(report.services.flatMap(\.verdicts).filter { !$0.passed }) \(report.table) \(report.errors)")
            let service = try #require(report.services.first)
            #expect(service.counts["rs1"] == 6 && service.counts["rs2"] == 6, "\(mode): \(service.counts)")
            #expect(service.verdicts.contains { $0.check == "answers cycle in a fixed order" && $0.passed })
            #expect(report.table.count == 1 && report.table.allSatisfy { $0.passed })

            let again = await runner.run(.up, plans: plans, inventory: inventory.file)
            #expect(again.hosts.allSatisfy { $0.count(.changed) == 0 && !$0.failed }, "\(mode) second up:\n\(again.text)")

            let down = await runner.run(.down, plans: plans, inventory: inventory.file)
            #expect(down.exitCode == 0, "\(mode) down:\n\(down.text)\n\(failures(down))")
            for host in Self.hosts {
                let after = try await snapshot(lab, host)
                #expect(after == before[host], "\(mode): \(host) after down differs from before up:\n\(difference(before[host] ?? "", after))")
            }
            let silent = try await run(lab, "client", "curl -s -m 3 http://192.168.0.200/ || echo NO-ANSWER")
            #expect(silent == "NO-ANSWER\n", "\(mode): the VIP still answers after down")
        }

        // Schedulers and weights, in DR.
        let cases: [(String, String, [Int]?, (ServiceVerification) -> Void)] = [
            ("wrr", "wrr", [1, 3], { s in
                #expect(s.counts["rs1"] == 3 && s.counts["rs2"] == 9, "wrr 1:3 gave \(s.counts)")
                #expect(s.verdicts.allSatisfy { $0.passed }, "\(s.verdicts)")
            }),
            ("sh", "sh", nil, { s in
                #expect(Set(s.sequence).count == 1, "sh moved the client: \(s.sequence)")
                #expect(s.verdicts.allSatisfy { $0.passed }, "\(s.verdicts)")
            }),
            ("weight0", "rr", [1, 0], { s in
                #expect(s.counts["rs2"] == 0 && s.counts["rs1"] == 12, "weight 0 got traffic: \(s.counts)")
                #expect(s.verdicts.allSatisfy { $0.passed }, "\(s.verdicts)")
            }),
        ]
        for (name, scheduler, weights, check) in cases {
            let text = lab.inventory(mode: "dr", scheduler: scheduler, weights: weights)
            let (inventory, plans, runner, verifier) = try context(lab, text: text, name: "e2e-\(name)", library: library)
            let up = await runner.run(.up, plans: plans, inventory: inventory.file)
            #expect(up.exitCode == 0, "\(name) up:\n\(up.text)\n\(failures(up))")
            let report = await verifier.verify(inventory, requests: 12, fromLocal: false)
            if let service = report.services.first { check(service) } else { Issue.record("\(name): no service verified") }
            #expect(report.table.allSatisfy { $0.passed }, "\(name): \(report.table)")
            let down = await runner.run(.down, plans: plans, inventory: inventory.file)
            #expect(down.exitCode == 0, "\(name) down:\n\(down.text)")
        }
    }

    func context(_ lab: VMLab, text: String, name: String, library: PlaybookLibrary) throws -> (Inventory, [HostPlan], ClusterRunner, Verifier) {
        let file = "\(lab.folder)/\(name).yml"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let inventory = try InventoryParser.parse(text, file: file).get()
        var access = HostAccess(knownHostsFiles: inventory.knownHostsFiles)
        access.handshakeTimeout = .seconds(30)
        return (inventory, try Renderer(library: library).render(inventory), ClusterRunner(access: access), Verifier(access: access))
    }

    func run(_ lab: VMLab, _ host: String, _ command: String) async throws -> String {
        let connection = try await SSHConnection.connect(to: lab.target(host), options: lab.sshOptions)
        // Closed before returning, so the next command never races a session still closing.
        do {
            let output = try await connection.run(command).standardOutput
            await connection.close()
            return output
        } catch {
            await connection.close()
            throw error
        }
    }

    /// What down must restore on a lab host: sysctls, addresses, routes, modules, IPVS table, files.
    func snapshot(_ lab: VMLab, _ host: String) async throws -> String {
        try await run(lab, host, """
            grep -r . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf /proc/sys/net/ipv4/vs 2>/dev/null | sort
            # The kernel attaches a default qdisc the first time a device goes up (tunl0: noop
            # becomes noqueue) and never detaches it: nobody's setting, and nothing can undo it.
            ip -o addr show; ip -o link show | sed 's/ qdisc [a-z_]*//; s/ qlen [0-9]*//'; ip route show table all
            ipvsadm -S -n 2>&1
            ls /sys/module | tr '\\n' ' '; echo
            find /var/lib/lvsctl /srv /etc/sysctl.d -xdev 2>/dev/null | sort | while read -r f; do
              if [ -f "$f" ]; then echo "$f $(md5sum < "$f")"; else echo "$f/"; fi
            done
            """)
    }

    func failures(_ recap: Recap) -> String {
        recap.hosts.flatMap { host in host.steps.filter { $0.status == .failed }.map { "\(host.host): \($0.name): \($0.output ?? "")" } }
            .joined(separator: "\n")
    }
}
