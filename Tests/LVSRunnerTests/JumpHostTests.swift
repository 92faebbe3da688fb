import Foundation
import LVSKit
import LVSLab
import LVSRunner
import SSHTransport
import Testing

/// Hosts reached through others (inventory `jump:`, OpenSSH's ProxyJump), over real sshd: every
/// hop's key checked, every failure naming its hop.
@Suite(.serialized) struct JumpHostTests {
    static let specs = [LabHostSpec("host1"), LabHostSpec("host2"), LabHostSpec("host3"),
                        LabHostSpec("host4", sshdOptions: ["AllowTcpForwarding no"])]

    static func host(_ lab: Lab, _ name: String, jump: String? = nil, address: String? = nil) -> InventoryHost {
        InventoryHost(name: name, address: address ?? lab[name].address, identityFile: lab.privateKey, jump: jump,
                      location: SourceLocation(file: "t", line: 1, column: 1))
    }

    static func access(_ lab: Lab, _ hosts: [InventoryHost], config: String = "", knownHosts: String? = nil) -> HostAccess {
        var access = HostAccess(sshConfig: SSHConfigFile.parse(config), knownHostsFiles: [knownHosts ?? lab.knownHostsFile])
        access.inventoryHosts = Dictionary(uniqueKeysWithValues: hosts.map { ($0.name, $0) })
        access.connectTimeout = .seconds(8)
        return access
    }

    /// Where the SSH connections a host holds now come from (sorted).
    static func peers(_ lab: Lab, _ name: String) async throws -> [String] {
        let result = try await lab.shell(on: lab[name], "ss -Htn state established '( sport = :22 )' | awk '{ split($4, a, \":\"); print a[1] }' | sort")
        return result.stdout.split(separator: "\n").map(String.init)
    }

    @Test func chainOfTwoJumpsSharingTheirSessions() async throws {
        try await Lab.with(Self.specs) { lab in
            let hosts = [Self.host(lab, "host1"), Self.host(lab, "host2", jump: "host1"), Self.host(lab, "host3", jump: "host2")]
            let access = Self.access(lab, hosts)
            #expect(access.path(to: hosts[2]) == "host1 → host2 → host3")
            let third = try await access.connect(hosts[2])
            let second = try await access.connect(hosts[1])
            #expect(try await third.run("hostname").standardOutput == "host3\n")
            #expect(try await second.run("hostname").standardOutput == "host2\n")
            // Each hop entered from the one before it; one session on host1 for both hosts behind it.
            #expect(try await Self.peers(lab, "host3") == [lab["host2"].address])
            #expect(try await Self.peers(lab, "host2") == [lab["host1"].address, lab["host1"].address], "host2 itself, and the hop to host3")
            #expect(try await Self.peers(lab, "host1") == [lab.gatewayAddress])
            await third.close()
            await second.close()
            await access.jumpPool.closeAll()
        }
    }

    @Test func proxyJumpFromTheSSHConfig() async throws {
        try await Lab.with(Self.specs) { lab in
            let hosts = [Self.host(lab, "host1"), Self.host(lab, "host3")]
            let access = Self.access(lab, hosts, config: "Host host3\n  ProxyJump host1\n")
            let connection = try await access.connect(hosts[1])
            #expect(try await connection.run("hostname").standardOutput == "host3\n")
            #expect(try await Self.peers(lab, "host3") == [lab["host1"].address])
            await connection.close()
            await access.jumpPool.closeAll()
        }
    }

    @Test func jumpHostThatRefusesForwarding() async throws {
        try await Lab.with(Self.specs) { lab in
            let hosts = [Self.host(lab, "host4"), Self.host(lab, "host3", jump: "host4")]
            let error = await Self.failure(Self.access(lab, hosts), hosts[1])
            #expect(error.hasPrefix("through host4: host3: root@\(lab["host4"].address):22 could not open a connection to \(lab["host3"].address):22 for us:"), "\(error)")
            #expect(error.hasSuffix("(its sshd forbids forwarding: AllowTcpForwarding no?)"), "\(error)")
        }
    }

    @Test func jumpHostWhoseKeyChanged() async throws {
        try await Lab.with(Self.specs) { lab in
            // host1's entry holds another key.
            let folder = lab.directory
            try await Shell.bashChecked("""
                ssh-keygen -q -t ed25519 -N '' -f \(folder)/other-key
                grep -v '^\(lab["host1"].address) ' \(lab.knownHostsFile) > \(folder)/changed_hosts
                awk '{print "\(lab["host1"].address)", $1, $2}' \(folder)/other-key.pub >> \(folder)/changed_hosts
                """, what: "a known_hosts with host1's key changed")
            let hosts = [Self.host(lab, "host1"), Self.host(lab, "host3", jump: "host1")]
            let error = await Self.failure(Self.access(lab, hosts, knownHosts: "\(folder)/changed_hosts"), hosts[1])
            #expect(error.hasPrefix("jump host host1: HOST KEY OF root@\(lab["host1"].address):22 HAS CHANGED"), "\(error)")
        }
    }

    @Test func innerHostThatIsDown() async throws {
        try await Lab.with(Self.specs) { lab in
            try await lab.signal("KILL", host: lab["host3"])
            let hosts = [Self.host(lab, "host1"), Self.host(lab, "host3", jump: "host1")]
            let error = await Self.failure(Self.access(lab, hosts), hosts[1])
            #expect(error.hasPrefix("through host1: host3: root@\(lab["host1"].address):22 could not open a connection to \(lab["host3"].address):22 for us: "), "\(error)")
        }
    }

    static func failure(_ access: HostAccess, _ host: InventoryHost) async -> String {
        defer { Task { await access.jumpPool.closeAll() } }
        do {
            _ = try await access.withConnection(to: host) { connection, _ in try await connection.run("true").standardOutput }
            return "connected"
        } catch {
            return "\(error)"
        }
    }
}

extension JumpHostTests {
    /// A tunnel waiting on a quiet command costs nothing: the pump sleeps in poll.
    @Test func idleTunnelDoesNotSpin() async throws {
        try await Lab.with(Self.specs) { lab in
            let hosts = [Self.host(lab, "host1"), Self.host(lab, "host3", jump: "host1"), Self.host(lab, "host2", jump: "host1")]
            let access = Self.access(lab, hosts)
            let connection = try await access.connect(hosts[1])
            let other = try await access.connect(hosts[2])
            let jump = try await access.jumpPool.connection([hosts[0]], access: access)
            // The three connections' own threads: the rest of the process runs other tests.
            func cpu() -> Duration { [connection, other, jump].map(\.threadCPUTime).reduce(.zero, +) }
            let before = cpu()
            // Two hosts behind the jump host, and the jump host itself, all waiting at once.
            async let first = connection.run("sleep 2; echo done").standardOutput
            async let second = other.run("sleep 2; echo done").standardOutput
            async let third = jump.run("sleep 2; echo done").standardOutput
            let outputs = try await [first, second, third]
            #expect(outputs == ["done\n", "done\n", "done\n"])
            let spent = cpu() - before
            #expect(spent < .milliseconds(300), "\(spent) of CPU while the far host slept 2 s")
            await connection.close()
            await other.close()
            await access.jumpPool.closeAll()
        }
    }
}
