import Foundation
import LVSLab
import Testing
@testable import SSHTransport

/// Many hosts at once, each connection on its own thread.
struct ParallelHostsTests {
    @Test func twentyHostsInParallel() async throws {
        try await Lab.with(hosts: 20) { lab in
            let clock = ContinuousClock(), started = clock.now
            let answers = try await withThrowingTaskGroup(of: (String, String).self) { group in
                for host in lab.hosts {
                    group.addTask {
                        let connection = try await SSHConnection.connect(to: host.target, options: lab.sshOptions)
                        let output = try await connection.run("hostname; ip -4 -o addr show eth0 | awk '{print $4}'").standardOutput
                        await connection.close()
                        return (host.name, output)
                    }
                }
                return try await group.reduce(into: [String: String]()) { $0[$1.0] = $1.1 }
            }
            #expect(answers.count == 20)
            for host in lab.hosts {
                #expect(answers[host.name] == "\(host.name)\n\(host.address)/24\n")
            }
            print("20 hosts: connect + command + close in \(clock.now - started)")
        }
    }

    @Test func labHostsAreIsolatedFromEachOther() async throws {
        try await Lab.with(hosts: 2) { lab in
            // Per-host sysctls and private folders: what one host sets, the other does not see.
            _ = try await lab.shell(on: lab.hosts[0], "sysctl -qw net.ipv4.conf.all.arp_ignore=2; echo one > /srv/mark")
            let other = try await lab.shell(on: lab.hosts[1], "sysctl -n net.ipv4.conf.all.arp_ignore; cat /srv/mark 2>/dev/null || echo none")
            #expect(other.stdout == "0\nnone\n")
        }
    }
}
