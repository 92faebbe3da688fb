import ArgumentParser
import Foundation
import LVSKit
import LVSRunner

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The live IPVS table with its counters beside the desired one, and any drift.",
        discussion: "Drift is a step whose check fails now: something changed the host since `up`. Exit 1 when there is drift.")
    @OptionGroup var inventory: InventoryOption
    @OptionGroup var data: DataOption
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let context = try ClusterContext(inventory, data, connection)
        let access = context.runner.access   // built once: --ask-become-pass asks once
        if let director = context.inventory.host(named: context.inventory.director.host) {
            print("==> desired IPVS table (ipvsadm-save -n)")
            print(ScriptRenderer.ipvsadmSave(context.inventory), terminator: "")
            print("==> live on \(director.name): ipvsadm -L -n --stats")
            do {
                let live = try await access.withConnection(to: director) { connection, target in
                    try await access.runAsRoot("ipvsadm -L -n --stats 2>&1\n", on: connection, host: director, user: target.user).standardOutput
                }
                print(live, terminator: "")
            } catch {
                print("    cannot read it: \(error)")
            }
        }
        print("==> drift (steps whose check fails now)")
        let recap = await ClusterRunner(access: access, forks: connection.forks).run(.plan, plans: context.plans, inventory: context.inventory.file)
        var drifted = false
        for host in recap.hosts {
            guard host.reachable else { print("    \(host.host): unreachable: \(host.error ?? "")"); drifted = true; continue }
            let changed = host.steps.filter { $0.status != .ok }
            drifted = drifted || !changed.isEmpty
            print("    \(host.host): " + (changed.isEmpty ? "no drift (\(host.steps.count) steps ok)" : changed.map(\.name).joined(separator: "; ")))
        }
        if drifted { throw ExitCode(1) }
    }
}
