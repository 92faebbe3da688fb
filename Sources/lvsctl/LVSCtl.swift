import ArgumentParser
import LVSKit

@main
struct LVSCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lvsctl",
        abstract: "Build Linux Virtual Server (LVS/IPVS) load-balancing clusters over SSH.",
        discussion: """
        lvsctl reads one inventory file describing a director, its real servers and the virtual \
        services, and provisions the cluster over SSH in NAT, DR or TUN mode: sysctls, the VIP \
        alias, tunnels, ipvsadm rules and a test page. Every change is recorded on the host so \
        that `down` restores exactly what was there before `up`.

        `lvsctl lab` builds a local lab of hosts (network namespaces with their own sshd) to try \
        it on.
        """,
        version: LVSKit.version,
        subcommands: [Check.self, Render.self, Plan.self, Up.self, Verify.self, Status.self, Down.self, LabCommand.self]
    )
}
