import Foundation
import LVSKit
import LVSLab
import LVSRunner
import SSHTransport
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// An inventory's `ssh:` and `hosts:` for every lab host (`login`: more of each host's fields).
func labHosts(_ lab: Lab, login: String = "") -> String {
    let hosts = lab.hosts.map { "  \($0.name): { address: \($0.address), identity: \(lab.privateKey)\(login) }" }
    return (["ssh: { known_hosts: \(lab.knownHostsFile) }", "hosts:"] + hosts).joined(separator: "\n")
}

/// A cluster on lab hosts: host1 director, host2 and host3 real servers, host4 client.
func labInventory(_ lab: Lab, mode: String, extra: String = "", login: String = "", servers: String = "[host2, host3]") -> String {
    """
    \(labHosts(lab, login: login))
    cluster:
      mode: \(mode)
      director: { host: host1, interface: eth0 }
      client: host4
      services:
        - vip: 10.200.\(lab.index).100
          port: 80
          scheduler: rr
          real_servers: \(servers)
    \(extra)
    """
}

struct LocalCluster {
    let lab: Lab
    let inventory: Inventory
    let cluster: [HostState]
    let runner: ClusterRunner
    let file: String

    init(_ lab: Lab, mode: String, handshakeTimeout: Duration = .seconds(10), login: String = "", becomePassword: String? = nil,
         servers: String = "[host2, host3]", lockWait: Int = 0, extra: String = "") throws {
        self.lab = lab
        let text = labInventory(lab, mode: mode, extra: extra, login: login, servers: servers)
        file = "\(lab.directory)/lab-\(mode)-\(UUID().uuidString.prefix(6)).yml"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        inventory = try InventoryParser.parse(text, file: file).get()
        cluster = try DesiredStateBuilder(library: PlaybookLibrary.load(from: repositoryRoot)).hosts(inventory)
        var access = HostAccess(knownHostsFiles: [lab.knownHostsFile]).knowing(inventory)
        access.handshakeTimeout = handshakeTimeout
        access.connectTimeout = .seconds(3)
        access.becomePassword = becomePassword
        var options = RunOptions()
        options.lockWait = lockWait
        runner = ClusterRunner(access: access, options: options)
    }

    func run(_ verb: Verb, only hosts: Set<String>? = nil) async -> Recap {
        await runner.run(verb, cluster: cluster, only: hosts, inventory: inventory)
    }

    /// Everything `down` must put back, read out of band: sysctls, addresses, routes, listening
    /// sockets, files.
    func snapshot(_ name: String) async throws -> String {
        let host = lab[name]
        let result = try await lab.shell(on: host, """
            echo "ip_forward $(cat /proc/sys/net/ipv4/ip_forward)"
            grep -r . /proc/sys/net/ipv4/conf 2>/dev/null | sort
            ip -o addr show; ip route show table all
            ss -Hltn 2>/dev/null | awk '{print "listening", $4}' | sort   # before the module list: ss may load inet_diag
            find /var/lib/lvsctl /srv /root -xdev 2>/dev/null | sort | while read -r f; do
              if [ -f "$f" ]; then echo "$f $(md5sum < "$f")"; else echo "$f/"; fi
            done
            # The modules lvsctl loads (and those they pull in): the module list is the machine's,
            # and tests running beside this one load others (a snapshot once differed here).
            ls /sys/module | grep -E '^(ip_vs|ipip|tunnel4|ip_tunnel)' | sort | tr '\\n' ' '
            """)
        #expect(result.succeeded)
        return result.stdout
    }
}

func outcome(_ recap: Recap, _ host: String) -> HostReport? { recap.hosts.first { $0.host == host } }

func failures(_ recap: Recap) -> String {
    recap.hosts.flatMap { host in host.changes.filter { $0.status == .failed }.map { "\(host.host): \($0.change.text): \($0.output ?? "")" } }
        .joined(separator: "\n")
}

/// The lvsctl program built beside the test bundle (swift test builds it too).
func lvsctlBinary() throws -> String {
    var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = folder.appendingPathComponent("lvsctl").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        folder.deleteLastPathComponent()
    }
    let built = "\(repositoryRoot)/.build/debug/lvsctl"
    guard FileManager.default.isExecutableFile(atPath: built) else { throw LabError("no lvsctl program beside \(CommandLine.arguments[0]) or at \(built)") }
    return built
}
