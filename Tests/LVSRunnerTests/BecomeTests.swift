import Foundation
import LVSKit
import LVSLab
import LVSRunner
import Testing

/// Hosts whose SSH user is not root: steps run through sudo, and a sudo that wants a password
/// says so.
@Suite(.serialized) struct BecomeTests {
    @Test func passwordlessSudo() async throws {
        try await Lab.with(hosts: 4) { lab in
            let cluster = try LocalCluster(lab, mode: "dr", login: ", user: lvs, become: sudo")
            let before = try await cluster.snapshot("host2")
            let up = await cluster.run(.up, only: ["host2"])
            let report = try #require(outcome(up, "host2"))
            #expect(report.error == nil && report.counts.failed == 0, "\(up.text) \(failures(up))")
            #expect(report.counts.added > 0)
            // Done as root: root owns lvsctl's record.
            #expect(try await lab.shell(on: lab["host2"], "stat -c %U /var/lib/lvsctl/r").stdout == "root\n")
            let down = await cluster.run(.down, only: ["host2"])
            #expect(down.exitCode == 0)
            #expect(try await cluster.snapshot("host2") == before)
        }
    }

    @Test func sudoWantingAPasswordIsExplained() async throws {
        try await Lab.with(hosts: 4) { lab in
            let cluster = try LocalCluster(lab, mode: "dr", login: ", user: lvspw, become: sudo")
            let up = await cluster.run(.up, only: ["host2"])
            #expect(outcome(up, "host2")?.error == "sudo on host2 wants a password for lvspw: pass --ask-become-pass, or allow lvspw NOPASSWD sudo")
            #expect(up.exitCode == 1)
            // Nothing was changed on the host.
            #expect(try await lab.shell(on: lab["host2"], "ls /var/lib/lvsctl | wc -l").stdout == "0\n")
        }
    }

    @Test func sudoWithTheAskedPassword() async throws {
        try await Lab.with(hosts: 4) { lab in
            let cluster = try LocalCluster(lab, mode: "dr", login: ", user: lvspw, become: sudo", becomePassword: lab.rootPassword)
            let up = await cluster.run(.up, only: ["host2"])
            #expect(outcome(up, "host2")?.error == nil, "\(up.text)")
            #expect(outcome(up, "host2")?.counts.added ?? 0 > 0)
            let wrong = try LocalCluster(lab, mode: "dr", login: ", user: lvspw, become: sudo", becomePassword: "not-it")
            #expect(outcome(await wrong.run(.plan, only: ["host2"]), "host2")?.error == "sudo on host2 refused the password given for lvspw")
            _ = await cluster.run(.down, only: ["host2"])
        }
    }
}
