import Foundation
@testable import LVSLab
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

    /// This side keeps a neighbour entry per host: past 1 024 (the kernel's default gc_thresh3)
    /// a host of a 1 000-host lab read "No route to host". Only a lab past 250 hosts raises the
    /// limits, and its teardown puts back the values it recorded.
    @Test func largeLabRaisesNeighbourLimitsAndPutsThemBack() throws {
        let small = LabTopology.flat(index: 7, specs: (1...250).map { LabHostSpec("h\($0)") })
        #expect(!small.setupScript(directory: "/tmp/lab", password: "pw") { $0.sshAddress }.contains("gc_thresh"))
        let large = LabTopology.flat(index: 7, specs: (1...251).map { LabHostSpec("h\($0)") })
        let setup = large.setupScript(directory: "/tmp/lab", password: "pw") { $0.sshAddress }
        #expect(setup.contains("cat $N/gc_thresh1 $N/gc_thresh2 $N/gc_thresh3 > \"$D/neighbour-thresholds\""))
        #expect(setup.contains("for want in 502 1004 2008; do"))
        let teardown = large.teardownScript(directory: "/tmp/lab")
        let restore = try #require(teardown.range(of: "echo \"$old\" > /proc/sys/net/ipv4/neigh/default/gc_thresh$i; i=$((i + 1)); done < '/tmp/lab'/neighbour-thresholds"))
        #expect(restore.lowerBound < teardown.range(of: "rm -rf")!.lowerBound)
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
