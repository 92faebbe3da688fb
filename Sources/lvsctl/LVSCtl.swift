import ArgumentParser
@preconcurrency import Glibc
import LVSKit

@main
struct LVSCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lvsctl",
        abstract: "Build Linux Virtual Server (LVS/IPVS) load-balancing clusters over SSH.",
        discussion: """
        lvsctl reads one inventory file describing the directors, the real servers and the \
        virtual services, and provisions the cluster over SSH in NAT, DR or TUN mode: sysctls, \
        the VIP, tunnels, the IPVS services (one ipvsadm batch per director) and a test page or \
        your application's check. With a second director, `vrrp:`, a `health_check:` or a sorry \
        server in the inventory, the directors run keepalived (VRRP, health checks, the sorry \
        server, connection sync), which lvsctl configures, starts and reloads. With `metrics:`, \
        every director runs Debian's prometheus-node-exporter (port 9100: its IPVS series and \
        lvsctl's own, desired weights, drains, the VRRP state). An edited inventory is converged \
        in place by `up`; `plan` shows the diff first. Every change is recorded on its host before it is made, so that \
        `down` restores exactly what was there before the first `up`, and a killed run is safe to \
        run again.

        Verbs, in the order of use: check, render, plan, up, verify, status, down. `lvsctl lab` \
        starts a local lab (a qemu VM with Debian's kernel, each host a network namespace with its \
        own sshd) to try it on.

        Exit status: 0 done; 1 a step or check failed (status: drift); 2 a host was unreachable; \
        65 the inventory is invalid; 75 another lvsctl run holds a host.
        """,
        version: LVSKit.version,
        subcommands: [Check.self, Render.self, Plan.self, Up.self, Verify.self, Status.self, Down.self, LabCommand.self]
    )

    static func main() async {
        // Each line as it is printed, also into a pipe or a file (`lvsctl lab demo > log`,
        // `lvsctl up | tee`): C buffers those in blocks of 4 KB, so a long run showed nothing,
        // then everything.
        setvbuf(stdout, nil, _IOLBF, 0)
        await main(nil)
    }
}
