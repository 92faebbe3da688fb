import Foundation
import Testing
@testable import LVSKit

/// The address and route look-ups a template's check calls: every check reads the host's
/// addresses (routes) once per generation, but the check right after an apply asks `ip` for
/// that one device (destination), and must answer the same.
struct LookupTests {
    /// An `ip` printing what a real server with the VIP on lo shows, counted like the others.
    static func host() throws -> IPVSBatchTests.Host {
        let host = try IPVSBatchTests.Host()
        try host.write(host.folder + "/bin/ip", #"""
            #!/bin/sh
            echo ip >> \#(host.folder)/processes
            case "$*" in
              "-o addr show") printf '%s\n' '1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever' '1: lo    inet 10.0.0.200/32 brd 10.0.0.200 scope global lo:0\       valid_lft forever' '2: eth0    inet 10.0.0.11/24 scope global eth0' ;;
              "-o addr show dev lo") printf '%s\n' '1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever' '1: lo    inet 10.0.0.200/32 brd 10.0.0.200 scope global lo:0\       valid_lft forever' ;;
              "-o addr show dev eth0") printf '%s\n' '2: eth0    inet 10.0.0.11/24 scope global eth0' ;;
              "-4 route show") printf '%s\n' 'default via 10.0.0.254 dev eth0' '10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.11' '10.0.0.200 dev lo scope link' ;;
              "-4 route show 10.0.0.200") printf '%s\n' '10.0.0.200 dev lo scope link' ;;
              "-4 route show 10.0.0.0/24") printf '%s\n' '10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.11' ;;
              *) exit 1 ;;
            esac

            """#)
        return host
    }

    static let questions = [
        "lvsctl_has_address lo 10.0.0.200", "lvsctl_has_address lo 10.0.0.20", "lvsctl_has_address eth0 10.0.0.200",
        "lvsctl_has_address eth0 10.0.0.11", "lvsctl_has_address lo 10.0.0.11",
        "lvsctl_has_route -4 10.0.0.200 lo", "lvsctl_has_route -4 10.0.0.200 eth0", "lvsctl_has_route -4 10.0.0.200 ''",
        "lvsctl_has_route -4 10.0.0.0_24 eth0", "lvsctl_has_route -4 10.0.0.0_24 lo", "lvsctl_has_route -4 10.0.0.9 ''",
    ]

    @Test func theCheckAfterAnApplyAnswersAsTheReadingOfAll() async throws {
        let host = try Self.host()
        func answers(recheck: Bool) async throws -> (answers: [String], processes: [String]) {
            try? FileManager.default.removeItem(atPath: host.folder + "/state/answers")
            let script = Self.questions.map { "\(recheck ? "lvsctl_recheck=1; " : "")if \($0); then echo yes; else echo no; fi >> \"$S/answers\"\n" }.joined()
            let (_, processes) = try await host.run(script)
            return (host.text("state/answers").split(separator: "\n").map(String.init), processes)
        }
        let all = try await answers(recheck: false), one = try await answers(recheck: true)
        #expect(all.answers == ["yes", "no", "no", "yes", "no", "yes", "no", "yes", "yes", "no", "no"], "\(all.answers)")
        #expect(one.answers == all.answers)
        // Reading all: ip and awk once per kind; asked one at a time: one ip per question.
        #expect(all.processes.filter { $0 == "ip" }.count == 2 && one.processes == ["mktemp"] + Array(repeating: "ip", count: 11) + ["rm"], "\(all.processes) \(one.processes)")
    }
}
