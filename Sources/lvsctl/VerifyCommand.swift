import ArgumentParser
import Foundation
import LVSKit
import LVSRunner

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prove the cluster works: requests through each VIP, judged against the scheduler.",
        discussion: """
        Sends --requests HTTP requests to every TCP virtual service from the inventory's client \
        host over SSH (never from the director: IPVS does not balance connections that start \
        there), or from this machine with --from local, and tallies which real server answered by \
        its test page, or by the director's IPVS counters where the real servers run your \
        application. rr: every server answers, in a repeating order; wrr: each cycle follows the \
        weights; lc, wlc, sed, nq: the answers follow the kernel's own comparison from the \
        connections each server held; sh, mh, persistence: asked from every address the client \
        has, each source keeps to one server (sh, mh: the one the kernel's hash table gives it); \
        dh, lblc, lblcr: one destination goes to one server; fo, ovf: the highest weight takes the \
        load (between tied weights, the first the kernel lists); weight 0: never answers; a server \
        at its upper threshold takes nothing new. Then compares the director's `ipvsadm -Ln` with \
        the inventory. With a keepalived pair, the director holding the VIP is read, and the \
        servers its health checks removed are not expected to answer. With active-active \
        directors (bgp), every director's table is read and must be the same (settings, flags, \
        weights, the kernel's order of the real servers: what makes their Maglev tables equal), \
        their counters are added, and mh-port is judged by the spread of one client's \
        connections. Exit 1 if any check fails.
        """)
    enum Source: String, ExpressibleByArgument { case client, local }

    @OptionGroup var inventory: InventoryOption
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Requests per virtual service.") var requests = 12
    @Option(help: "client (the inventory's client host) or local.") var from: Source = .client

    func run() async throws {
        let inventory = try inventory.load()
        let report = await Verifier(access: connection.access(for: inventory)).verify(inventory, requests: requests, fromLocal: from == .local)
        if connection.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text(inventory))
        }
        if !report.passed { throw ExitCode(1) }
    }
}
