import ArgumentParser
import Foundation
import LVSKit
import LVSRunner

/// What every cluster verb needs: the inventory, its rendered plans, and how to reach hosts.
struct ClusterContext {
    let inventory: Inventory
    let plans: [HostPlan]
    let reporter: Reporter
    let runner: ClusterRunner

    init(_ inventory: InventoryOption, _ data: DataOption, _ connection: ConnectionOptions) throws {
        self.inventory = try inventory.load()
        self.plans = try Self.plans(for: self.inventory, data, limit: connection.limit)
        let reporter = Reporter(json: connection.json, verbose: connection.verbose)
        self.reporter = reporter
        self.runner = ClusterRunner(access: connection.access(for: self.inventory), forks: connection.forks) { report, done, total in
            reporter.hostDone(report, done: done, total: total)
        }
    }

    /// Every host's rendered steps, or only those of the hosts `--limit` names.
    static func plans(for inventory: Inventory, _ data: DataOption, limit: String?) throws -> [HostPlan] {
        let all = try Renderer(library: data.library()).render(inventory)
        guard let limit else { return all }
        let names = limit.split(separator: ",").map(String.init)
        for name in names where !all.contains(where: { $0.host.name == name }) {
            throw ValidationError("--limit names '\(name)', which has no role in \(inventory.file)")
        }
        return all.filter { names.contains($0.host.name) }
    }

    func run(_ verb: Verb) async throws {
        reporter.say("==> \(verb.rawValue): \(plans.count) hosts from \(inventory.file) (mode \(inventory.mode.rawValue.uppercased()))")
        try reporter.finish(await runner.run(verb, plans: plans, inventory: inventory.file))
    }
}

struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what `up` would change on each host (runs checks only; writes nothing).",
        discussion: "Each step is `ok` (already as wanted) or `would-change`. --show-script prints, without connecting, the exact shell `up` sends to each host.")
    @OptionGroup var inventory: InventoryOption
    @OptionGroup var data: DataOption
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .customLong("show-script"), help: "Print the exact script `up` runs on each host, and connect nowhere.")
    var showScript = false

    func run() async throws {
        if showScript {
            let inventory = try inventory.load()
            for plan in try ClusterContext.plans(for: inventory, data, limit: connection.limit) {
                print("# ===== \(plan.host.name) (\(plan.host.address)): `lvsctl up` sends this to /bin/sh as root")
                print(HostScript.up(plan.steps))
            }
            return
        }
        try await ClusterContext(inventory, data, connection).run(.plan)
    }
}

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Provision the cluster: run each host's steps whose check fails.",
        discussion: """
        For each host, in one SSH command: every step's check; for each that fails, the state it \
        will change is saved under /var/lib/lvsctl (once: a later `up` keeps the original), then it \
        is applied and checked again. A host stops at its first failed step; other hosts go on. \
        Running `up` again reports 0 changed.

        Exit status: 0 all done; 1 a step failed; 2 a host was unreachable; 65 invalid inventory.
        """)
    @OptionGroup var inventory: InventoryOption
    @OptionGroup var data: DataOption
    @OptionGroup var connection: ConnectionOptions

    func run() async throws { try await ClusterContext(inventory, data, connection).run(.up) }
}

struct Down: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tear the cluster down and put every host back as it was before `up`.",
        discussion: """
        Runs, in reverse order, the undo of every step `up` changed, with the state saved before \
        it: sysctls get their old values back, addresses and routes go, modules lvsctl loaded are \
        unloaded, files are restored or removed, the ipvsadm services lvsctl created are deleted. \
        The saved state lives on each host, so `down` works from another machine or after a crash; \
        on a host never provisioned, or a second time, it does nothing.
        """)
    @OptionGroup var inventory: InventoryOption
    @OptionGroup var data: DataOption
    @OptionGroup var connection: ConnectionOptions

    func run() async throws { try await ClusterContext(inventory, data, connection).run(.down) }
}
