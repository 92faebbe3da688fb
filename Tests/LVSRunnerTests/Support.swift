import Foundation
import LVSKit
import LVSLab
import LVSRunner
import SSHTransport
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// A cluster on lab hosts: host1 director, host2 and host3 real servers, host4 client.
func labInventory(_ lab: Lab, mode: String, extra: String = "", login: String = "") -> String {
    let key = lab.privateKey
    let hosts = lab.hosts.map { "  \($0.name): { address: \($0.address), identity: \(key)\(login) }" }.joined(separator: "\n")
    return """
    hosts:
    \(hosts)
    cluster:
      mode: \(mode)
      director: { host: host1, interface: eth0 }
      client: host4
      services:
        - vip: 10.200.\(lab.index).100
          port: 80
          scheduler: rr
          real_servers: [host2, host3]
    \(extra)
    """
}

struct LabCluster {
    let lab: Lab
    let inventory: Inventory
    let plans: [HostPlan]
    let runner: ClusterRunner

    init(_ lab: Lab, mode: String, handshakeTimeout: Duration = .seconds(10), login: String = "", becomePassword: String? = nil) throws {
        self.lab = lab
        inventory = try InventoryParser.parse(labInventory(lab, mode: mode, login: login), file: "lab-\(mode).yml").get()
        plans = try Renderer(library: PlaybookLibrary.load(from: repositoryRoot)).render(inventory)
        var access = HostAccess(knownHostsFiles: [lab.knownHostsFile])
        access.handshakeTimeout = handshakeTimeout
        access.connectTimeout = .seconds(3)
        access.becomePassword = becomePassword
        runner = ClusterRunner(access: access)
    }

    func run(_ verb: Verb, only hosts: [String]? = nil) async -> Recap {
        await runner.run(verb, plans: plans.filter { hosts?.contains($0.host.name) ?? true }, inventory: inventory.file)
    }

    /// Everything `down` must put back, read out of band: sysctls, addresses, routes, files.
    func snapshot(_ name: String) async throws -> String {
        let host = lab[name]
        let result = try await lab.shell(on: host, """
            echo "ip_forward $(cat /proc/sys/net/ipv4/ip_forward)"
            grep -r . /proc/sys/net/ipv4/conf 2>/dev/null | sort
            ip -o addr show; ip route show table all
            find /var/lib/lvsctl /srv /root -xdev 2>/dev/null | sort | while read -r f; do
              if [ -f "$f" ]; then echo "$f $(md5sum < "$f")"; else echo "$f/"; fi
            done
            ls /sys/module | sort | tr '\\n' ' '
            """)
        #expect(result.succeeded)
        return result.stdout
    }
}

func outcome(_ recap: Recap, _ host: String) -> HostReport? { recap.hosts.first { $0.host == host } }

/// The lines only in `a` (-) and only in `b` (+).
func difference(_ a: String, _ b: String) -> String {
    let left = a.split(separator: "\n"), right = b.split(separator: "\n")
    return (left.filter { !right.contains($0) }.map { "- \($0)" } + right.filter { !left.contains($0) }.map { "+ \($0)" })
        .joined(separator: "\n")
}
