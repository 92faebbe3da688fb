import Foundation
import Testing
@testable import LVSKit

/// Requirements checked in lvsctl's shell that follow one another (a real server's listening
/// ports, by the thousand) are checked together in one function: the host reports each exactly
/// as it did each step on its own, for `up` (the first unmet one ends the conversation) and for
/// `plan` (every unmet one is reported).
struct RequirementsTogetherTests {
    static func requirement(_ index: Int, met: Bool) -> Resource {
        Resource(name: "port \(index)", role: .realServer, template: "listening",
                 value: .custom(template: "listening", identity: "tcp \(index)", parameters: [:]),
                 shell: StepShell(check: met ? "lvsctl_port_open" : "! lvsctl_port_open", capture: nil,
                                  apply: "printf 'nothing listens on port %s\\n' \(index) >&2\nexit 1", undo: nil,
                                  requirement: true, inlineCheck: true))
    }

    /// What the host reports of each step: its status and what it printed.
    static func run(_ steps: String) async throws -> [Int: String] {
        let (_, output) = try await runShell(HostScript.prologue + "lvsctl_port_open() { :; }\n" + steps)
        return HostOutput(output).steps.mapValues { "\($0.status.map(\.rawValue) ?? "-") \($0.output)" }
    }

    @Test(arguments: [[true, true, true], [true, false, true], [false, true, false], [true, true, false]])
    func reportedAsEachOnItsOwn(met: [Bool]) async throws {
        let resources = met.enumerated().map { Self.requirement($0.offset, met: $0.element) }
        let firstUnmet = met.firstIndex(of: false) ?? met.count
        for mode in [HostScript.Requirements.endingAtFirstUnmet, .checkingAll] {
            let together = mode == .checkingAll ? HostScript.check(resources) : HostScript.apply(resources)
            #expect(together.contains("3 requirements (steps 0-2) checked together"))
            let alone = resources.enumerated().map { HostScript.requirement($1.name, $1.shell!, index: $0, mode) }.joined()
            let reported = try await Self.run(together)
            #expect(reported == (try await Self.run(alone)))
            let expected = met.enumerated().compactMap { index, met -> (Int, String)? in
                if mode == .endingAtFirstUnmet && index > firstUnmet { return nil }
                return (index, met ? "ok []" : "failed [\"nothing listens on port \(index)\"\(mode == .endingAtFirstUnmet ? ", \"(apply failed with exit status 1)\"" : "")]")
            }
            #expect(reported == Dictionary(uniqueKeysWithValues: expected), "\(mode)")
        }
    }
}
