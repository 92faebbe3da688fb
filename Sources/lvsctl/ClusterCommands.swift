import ArgumentParser
import Foundation
import LVSKit
import LVSRunner

/// What every cluster verb needs: the inventory, each host's desired state, and how to reach hosts.
struct ClusterContext {
    let inventory: Inventory
    /// Every host the inventory gives a role, whatever `--limit` says.
    let cluster: [HostState]
    let only: Set<String>?
    let reporter: Reporter
    let runner: ClusterRunner

    init(_ inventory: InventoryOption, _ data: DataOption, _ connection: ConnectionOptions, options: RunOptions = RunOptions(),
         verb: String) throws {
        self.inventory = try inventory.load()
        let library = try data.library()
        self.cluster = try DesiredStateBuilder(library: library).hosts(self.inventory)
        self.only = try connection.limitedHosts(of: self.cluster, inventory: self.inventory)
        let reporter = Reporter(json: connection.json, verbose: connection.verbose)
        self.reporter = reporter
        var options = options
        options.lockWait = connection.lockWait
        options.onWait = { reporter.say($0) }
        self.runner = ClusterRunner(access: connection.access(for: self.inventory), forks: connection.forks, options: options,
                                    library: library) { report, done, total in
            reporter.hostDone(report, done: done, total: total)
        }
    }

    /// The hosts a verb works on (`--limit`), among those with a role.
    var selected: [HostState] { cluster.filter { only?.contains($0.host.name) ?? true } }

    func run(_ verb: Verb) async throws {
        reporter.say("==> \(verb.rawValue): \(selected.count) hosts from \(inventory.file) (mode \(inventory.mode.rawValue.uppercased()))")
        try reporter.finish(await runner.run(verb, cluster: cluster, only: only, inventory: inventory))
    }
}

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what `up` would change on each host, as a diff (reads only; writes nothing).",
        discussion: """
        Per host and resource: `+` added, `~` changed (old → new), `-` removed (a real server that \
        leaves a service: drained, then deleted), `!` found and left alone (an IPVS service lvsctl \
        did not create); nothing for what is already right. Resources are named by what they are \
        (`sysctl net.ipv4.ip_forward`, `address lo 192.168.0.200/32`, `ipvs tcp 192.168.0.200:80`). \
        A host the inventory no longer names, but that an earlier `up` provisioned, is listed as \
        leaving. --json prints the same as data.

        --show-script prints, without connecting, what `up` sends each host: the first part of its \
        conversation (lock, record, the resources), and for the director the IPVS parts as they \
        would be for a director that has none of the services yet: the records of the services it \
        creates (written while the real servers do their part), then the changes (`up` computes \
        both from the live table).
        """)
    @OptionGroup var inventory: InventoryOption
    @OptionGroup var data: DataOption
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .customLong("show-script"), help: "Print the script `up` sends each host, and connect nowhere.")
    var showScript = false

    func run() async throws {
        if showScript {
            let inventory = try inventory.load()
            let cluster = try DesiredStateBuilder(library: data.library()).hosts(inventory)
            let only = try connection.limitedHosts(of: cluster, inventory: inventory)
            for state in cluster where only?.contains(state.host.name) ?? true {
                print("# ===== \(state.host.name) (\(state.host.address)): `lvsctl up` sends this to /bin/sh as root")
                print(UpScript.firstParts(state, cluster: cluster), terminator: "")
            }
            return
        }
        try await ClusterContext(inventory, data, connection, verb: "plan").run(.plan)
    }
}

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Provision the cluster, or converge a running one to an edited inventory, in place.",
        discussion: """
        The director first reads its record and live IPVS table and takes the cluster's lock; real \
        servers get what they lack (a new one is ready before it gets traffic); the director then \
        edits IPVS in place: `-E` for a changed scheduler or persistence, `-e` for weights, \
        thresholds or forwarding, `-a` for new real servers; a real server that leaves is set to \
        weight 0 and deleted once it has no connections, or after --drain-timeout. A service that \
        stays is never deleted and re-created; services lvsctl did not create are left alone. Then \
        what the inventory no longer asks for is undone (the old VIP, sysctls, pages), newest first, \
        and hosts that left the cluster are restored. Each change is recorded on its host (what was \
        there before, and how to put it back) before it is made, so `up` and `down` may be killed \
        at any point and run again. A second `up` reports 0 changed. With keepalived, the \
        director pair's keepalived.conf is checked with `keepalived -t`, written, and keepalived \
        started or reloaded (after a real server leaving one of its services has drained as above: \
        its reload would remove it at once); keepalived then owns the VIP and the IPVS services, \
        and a pair's directors drop TCP resets from the VIPs' service ports (a failover keeps the \
        connections). With `metrics:`, node exporter answers on every director.

        A host whose lock is held by a run whose lvsctl is gone (killed, or its connection lost, \
        while its shell finishes its part) is waited for, up to 300 s, and the report says so.

        Exit status: 0 all done; 1 a step failed; 2 a host was unreachable; 75 another lvsctl run \
        holds a host (nothing was changed there; --lock-wait waits instead); 65 invalid inventory.
        """)
    @OptionGroup var inventory: InventoryOption
    @OptionGroup var data: DataOption
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .customLong("drain-timeout"), help: "Seconds a leaving real server may keep connections before it is deleted anyway.")
    var drainTimeout = 30

    func run() async throws {
        var options = RunOptions()
        options.drainTimeout = .seconds(drainTimeout)
        try await ClusterContext(inventory, data, connection, options: options, verb: "up").run(.up)
    }
}

struct Down: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tear the cluster down and put every host back as it was before `up`.",
        discussion: """
        Runs, newest first, the undo of every change `up` recorded, with the state saved before it: \
        sysctls get their old values back, addresses and routes go, modules lvsctl loaded are \
        unloaded, files are restored or removed, the IPVS services lvsctl created are deleted (in \
        one batch), keepalived is stopped (or reloaded with its old file, if it ran before). The \
        record lives on each host, so `down` works from another machine or after a crash, reaches \
        hosts an earlier inventory had (the cluster's hosts are recorded too), and on a host never \
        provisioned, or a second time, does nothing.
        """)
    @OptionGroup var inventory: InventoryOption
    @OptionGroup var data: DataOption
    @OptionGroup var connection: ConnectionOptions

    func run() async throws { try await ClusterContext(inventory, data, connection, verb: "down").run(.down) }
}
