import ArgumentParser
import Foundation
import LVSKit
import LVSRunner

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The live IPVS table with its counters beside the desired one, and any drift.",
        discussion: """
        Per director, each service and real server with its weight, active and inactive \
        connections and traffic counters; with keepalived, each director's VRRP state (MASTER, \
        BACKUP, FAULT or stopped) and since when, each real server up or down by its health check, \
        and the sorry server in use or standing by. Drift is what `lvsctl up` would change now (a \
        plan): something changed a host since `up`, or the inventory changed. --json prints the \
        same as data. Exit 1 when there is drift.
        """)
    @OptionGroup var inventory: InventoryOption
    @OptionGroup var data: DataOption
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let context = try ClusterContext(inventory, data, connection)
        let report = await context.runner.status(cluster: context.cluster, inventory: context.inventory)
        if connection.json { print(report.json) } else { print(report.text) }
        if report.drifted { throw ExitCode(1) }
    }
}
