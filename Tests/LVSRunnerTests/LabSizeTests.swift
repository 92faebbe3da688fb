import Foundation
import LVSLab
import Testing

/// A lab of more than one /24 (issue 21: bench/compare beyond 250 hosts), and a clear refusal
/// past what one machine holds.
struct LabSizeTests {
    @Test func largeFlatLabGetsABridgeAndASubnetPer250Hosts() {
        let topology = LabTopology.flat(index: 7, specs: (1...600).map { LabHostSpec("h\($0)") })
        #expect(topology.segments.map(\.bridge) == ["lvsbr7", "lvsbr7b1", "lvsbr7b2"])
        #expect(topology.segments.map(\.router) == ["10.200.7.254/24", "10.201.7.254/24", "10.202.7.254/24"])
        let hosts = topology.hosts
        #expect([hosts[0], hosts[249], hosts[250], hosts[599]].map(\.sshAddress) == ["10.200.7.1", "10.200.7.250", "10.201.7.1", "10.202.7.100"])
        #expect([hosts[249], hosts[250]].map { $0.interfaces[0].segment } == [0, 1])
        #expect(Set(hosts.map(\.sshAddress)).count == 600)
    }

    @Test func tooLargeALabIsRefusedWithWhy() async {
        do {
            _ = try await Lab.create((1...(LabTopology.flatMaximum + 1)).map { LabHostSpec("h\($0)") })
            Issue.record("a lab of \(LabTopology.flatMaximum + 1) hosts was built")
        } catch {
            #expect(error is LabError)
            #expect("\(error)" == "a lab holds 1 to 2000 hosts (asked for 2001): each is a network namespace with its own sshd on this machine")
        }
    }
}
