import Foundation
import LVSKit
import LVSRunner
import SSHTransport

/// A cluster on the lab VM's hosts: an inventory, each host's desired state, and the runner and
/// verifier that reach them.
public struct LabCluster: Sendable {
    public let lab: VMLab
    public let inventory: Inventory
    public let cluster: [HostState]
    public let runner: ClusterRunner
    public let verifier: Verifier

    public func run(_ verb: Verb) async -> Recap { await runner.run(verb, cluster: cluster, inventory: inventory) }
    /// The hosts the inventory names: the only ones lvsctl connects to.
    public var hostNames: [String] { cluster.map(\.host.name) }
    public func verify(requests: Int = 12) async -> VerifyReport { await verifier.verify(inventory, requests: requests, fromLocal: false) }
}

extension VMLab {
    /// Every lab host (what `snapshots()` reads when not told which).
    public var hostNames: [String] { topology.hosts.map(\.spec.name) }

    /// The lab's real servers, rs1 … in order.
    public var realServerNames: [String] { hostNames.filter { $0.hasPrefix("rs") } }
    /// The hosts `inventory(mode:)` clusters name: the director and the real servers.
    public var directorAndRealServers: [String] { ["director"] + realServerNames }
    /// The hosts `haInventory` clusters name: the keepalived pair and the real servers.
    public var pairAndRealServers: [String] { ["director", "director2"] + realServerNames }

    /// Writes `text` as `NAME.yml` into the lab folder and makes a cluster of it.
    public func cluster(_ text: String, name: String, library: PlaybookLibrary, options: RunOptions = RunOptions()) throws -> LabCluster {
        let file = "\(folder)/\(name).yml"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let inventory = try InventoryParser.parse(text, file: file).get()
        var access = HostAccess(knownHostsFiles: inventory.knownHostsFiles).knowing(inventory)
        access.handshakeTimeout = .seconds(30)
        return LabCluster(lab: self, inventory: inventory, cluster: try DesiredStateBuilder(library: library).hosts(inventory),
                          runner: ClusterRunner(access: access, options: options, library: library), verifier: Verifier(access: access))
    }

    /// Runs a command on a lab host as root over SSH, a real server through the director, on the
    /// lab's open connection to it; after a failure the next command connects afresh.
    public func run(_ host: String, _ command: String) async throws -> String {
        try await result(host, command).standardOutput
    }

    /// The command's whole result over the lab's open connection (reset when the connection failed).
    func result(_ host: String, _ command: String) async throws -> CommandResult {
        let connection = try await connections.connection(to: inventoryHost(host), access: access)
        do {
            return try await connection.run(command)
        } catch {
            await connections.reset()
            throw error
        }
    }

    /// `run`, refused unless the command exits 0 (`what` and its standard error in the error).
    public func runChecked(_ host: String, _ command: String, what: String) async throws -> String {
        let result = try await result(host, command)
        guard result.succeeded else { throw LabError("\(what) on \(host): \(result.standardError.trimmingCharacters(in: .whitespacesAndNewlines))") }
        return result.standardOutput
    }

    /// What `down` must put back on a lab host: sysctls, addresses, links, routes, the IPVS table,
    /// modules, listening sockets (a web server left running), lvsctl's folder and the files it
    /// may write; sorted as a whole (compared as sets of lines). Few processes: every test takes
    /// a snapshot of every lab host twice, and a process costs ~40 ms under emulation (this
    /// script: ~1.1 s of the VM's CPU per host, where one process per item took ~1.6 s).
    public func snapshot(_ host: String) async throws -> String {
        try await run(host, """
            {
            grep -r . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf /proc/sys/net/ipv4/vs /proc/sys/net/ipv6/conf/all/forwarding
            # The kernel attaches a default qdisc the first time a device goes up (tunl0: noop
            # becomes noqueue) and never detaches it: nobody's setting, and nothing can undo it.
            printf '%s\\n' 'addr show' 'link show' 'route show table all' | ip -o -batch - | sed 's/ qdisc [a-z_]*//; s/ qlen [0-9]*//'
            ip -6 route show table all
            iptables -t mangle -S 2>&1; ip6tables -t mangle -S 2>&1; iptables -t nat -S 2>&1; iptables -S OUTPUT 2>&1; ip6tables -S OUTPUT 2>&1
            ipvsadm -S -n 2>&1; ipvsadm -L -n --timeout 2>&1
            ss -Hltun | awk '{ print "listening", $1, $5 }'
            echo /sys/module/*
            # keepalived or bird running in this host's namespace (the lab's hosts share one PID space).
            for p in /proc/[0-9]*; do
              read -r c < $p/comm || continue
              case $c in keepalived|bird) [ $p/ns/net -ef /proc/self/ns/net ] && echo "$c running" ;; esac
            done
            # One md5sum for every file.
            find /var/lib/lvsctl /srv /etc/sysctl.d /etc/keepalived /etc/bird /var/lib/prometheus/node-exporter -xdev \\( -type f -exec md5sum {} + \\) -o -printf '%p/\\n'
            } 2>/dev/null | sort
            """)
    }

    /// The snapshots of `hosts` (every lab host by default), read in parallel (a new connection
    /// under emulation takes seconds). A snapshot costs ~0.75 s of the VM's two CPUs, so a test
    /// whose clusters name fewer hosts snapshots only those: lvsctl connects to no other host.
    public func snapshots(of hosts: [String]? = nil) async throws -> [String: String] {
        try await withThrowingTaskGroup(of: (String, String).self) { group in
            for host in hosts ?? hostNames { group.addTask { (host, try await snapshot(host)) } }
            var result: [String: String] = [:]
            for try await (host, text) in group { result[host] = text }
            return result
        }
    }

    /// Per host of `before`, the lines that differ from it (empty when every host is as it was).
    public func differences(from before: [String: String]) async throws -> [String: String] {
        let now = try await snapshots(of: Array(before.keys))
        var found: [String: String] = [:]
        for (host, old) in before where now[host] != old { found[host] = LabSnapshot.difference(old, now[host] ?? "") }
        return found
    }
}

public enum LabSnapshot {
    /// The lines only in `a` (-) and only in `b` (+).
    public static func difference(_ a: String, _ b: String) -> String {
        let left = a.split(separator: "\n"), right = b.split(separator: "\n")
        return (left.filter { !right.contains($0) }.map { "- \($0)" } + right.filter { !left.contains($0) }.map { "+ \($0)" })
            .joined(separator: "\n")
    }
}
