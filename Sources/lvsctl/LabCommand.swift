import ArgumentParser
import Foundation
import LVSKit
import LVSLab
import LVSRunner
import SSHTransport

struct LabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "A local lab of hosts to try lvsctl on.",
        discussion: """
        This machine's kernel has no IPVS, so the lab is a qemu VM (Debian 12's kernel, fetched \
        once and cached in /var/cache/lvsctl/kernel) running this machine's programs read-only. \
        Inside it each lab host (client, director, director2 … director4, rs1, rs2, …) is a network \
        namespace with its own addresses, sysctls, private /root, /srv, /var/lib/lvsctl and \
        /etc/keepalived, and its own OpenSSH sshd: real SSH with host-key checking on, the \
        first two directors forwarded to 127.0.0.1 ports, director3, director4 and the real servers reached \
        through the director \
        (ProxyJump). `lab up` writes lab-nat.yml, lab-dr.yml, lab-tun.yml, lab-ha-dr.yml (a \
        keepalived pair) and lab-ecmp.yml (three active-active directors; `lab router` first) \
        into /var/tmp/lvsctl-lab. Needs root and what scripts/bootstrap \
        installs.
        """,
        subcommands: [Up.self, Down.self, Status.self, Router.self, Demo.self, Hosts.self, SSHBench.self]
    )

    /// netns on a kernel with IPVS and ipip; a VM otherwise.
    enum Backend: String, ExpressibleByArgument { case auto, vm, netns }

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start the LVS lab: a client, a director and real servers, reachable over SSH.",
            discussion: "Builds the seed's topology (public segment: client 192.168.0.100, director 192.168.0.10; private segment: DIP 10.0.0.1, real servers 10.0.0.11, .12, …; VIP 192.168.0.200) and writes lab-nat.yml, lab-dr.yml, lab-tun.yml, an SSH config, the key and known_hosts into the lab folder. This kernel lacks IPVS, so the lab runs in a qemu VM (Debian's kernel, fetched once).")
        @Option(help: "How many real servers.") var realServers = 2
        @Option(help: "auto, vm or netns.") var backend: Backend = .auto

        func run() async throws {
            let lab = VMLab(realServers: realServers)
            try LabCommand.requireVM(backend)
            try await lab.up { print("==> \($0)") }
            print("lab folder \(lab.folder):")
            for name in ["nat", "dr", "tun", "ha-dr", "ecmp"] { print("  \(lab.folder)/lab-\(name).yml") }
            print("  (lab-ecmp.yml's directors announce to a router: start it with `lvsctl lab router`)")
            print("  ssh -F \(lab.folder)/ssh_config director")
        }
    }

    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the lab VM (by its PID) and remove the lab folder; also cleans a half-built lab.")
        func run() async throws {
            let lab = VMLab()
            let wasRunning = lab.isRunning
            try await lab.down()
            print(wasRunning ? "lab stopped" : "no lab was running (folder cleaned)")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Whether the lab runs, and whether each lab host answers over SSH.")
        func run() async throws {
            let lab = VMLab()
            guard lab.isRunning else { print("no lab running"); throw ExitCode(1) }
            print("lab VM running, qemu pid \(lab.pid ?? 0), folder \(lab.folder)")
            let access = lab.access
            for host in lab.topology.hosts {
                let name = host.spec.name
                let reach = access.path(to: lab.inventoryHost(name)).map { "via \($0)" } ?? "127.0.0.1:\(lab.port(of: name))"
                do {
                    await (try await access.connect(lab.inventoryHost(name))).close()
                    print("  \(name.padding(toLength: 9, withPad: " ", startingAt: 0)) \(reach)  \(host.interfaces.map(\.address).joined(separator: ", "))  ssh ok")
                } catch {
                    print("  \(name) \(reach)  \(error)")
                }
            }
            await access.jumpPool.closeAll()
        }
    }

    struct Router: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start (or --stop) the router in front of lab-ecmp.yml's active-active directors.",
            discussion: """
            bird on the lab's client with director and director2 as BGP neighbours (AS 65000 \
            facing 65001, hold 3 s, BFD 3 × 100 ms): what they announce is installed as one \
            multipath route hashed on the 5-tuple, so the client's connections spread over both \
            directors. Then `lvsctl up -i /var/tmp/lvsctl-lab/lab-ecmp.yml`, and watch the route \
            with `ssh -F /var/tmp/lvsctl-lab/ssh_config client ip route show 192.168.0.200`. \
            --stop stops bird by its PID and puts the client's hash policy back.
            """)
        @Flag(help: "Stop the router instead.") var stop = false

        func run() async throws {
            let lab = VMLab()
            guard lab.isRunning else { throw ValidationError("no lab running: start it with `lvsctl lab up`") }
            do {
                try await stop ? lab.stopRouter() : lab.startRouter()
                await lab.connections.closeAll()
            } catch {
                await lab.connections.closeAll()
                throw error
            }
            if stop {
                print("lab router stopped")
            } else {
                print("lab router started on the client: bird, neighbours \(lab.router().directors.joined(separator: ", ")); control socket \(lab.router().socket)")
                print("  lvsctl up -i \(lab.folder)/lab-ecmp.yml")
            }
        }
    }

    /// Only the VM backend is built so far: the netns backend needs a kernel with IPVS and ipip.
    static func requireVM(_ backend: Backend) throws {
        if backend == .netns {
            throw ValidationError("the netns backend needs a kernel with IPVS and ipip loadable here; this one has neither: use --backend vm")
        }
    }

    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The whole promise in one go: lab up; DR, NAT and TUN clusters provisioned, round-robin proven, torn down; lab down.",
            discussion: "For each mode: `up` from the lab's inventory, the answers of 12 requests from the client through the VIP and the director's IPVS table, a second `up` (0 changed), then `down` (every host back as before). Prints how long each phase took.")
        @Option(help: "How many real servers.") var realServers = 2
        @Flag(help: "Leave the lab running at the end (stop it with `lvsctl lab down`).") var keep = false
        @OptionGroup var data: DataOption

        func run() async throws {
            let timings = PhaseTimings()
            let lab = VMLab(realServers: realServers)
            if lab.isRunning { try await lab.down() }
            try await timings.time("lab up") { try await lab.up { print("==> \($0)") } }
            var failed = false
            do {
                let library = try data.library()
                for mode in ["dr", "nat", "tun"] {
                    let cluster = try lab.cluster(lab.inventory(mode: mode, metrics: true), name: "lab-\(mode)", library: library)
                    print("")
                    let result = try await LabScenario.mode(cluster, timings: timings) { print($0) }
                    print("==> \(mode.uppercased()): \(result.passed ? "PASS" : "FAIL")")
                    failed = failed || !result.passed
                }
            } catch {
                print("demo stopped: \(error)")
                failed = true
            }
            if keep {
                print("==> lab left running: \(lab.folder) (stop it with `lvsctl lab down`)")
            } else {
                try await timings.time("lab down") { try await lab.down() }
            }
            print("\n==> timings")
            print(timings.table(format: Timing.format))
            if failed { throw ExitCode(1) }
        }
    }

    /// For benchmarks: N lab hosts held until `FOLDER/stop` appears (or the time limit).
    struct Hosts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hold N lab hosts (namespaces with sshd) until FOLDER/stop exists; for benchmarks.",
            shouldDisplay: false)
        @Option var count = 10
        @Option var folder: String
        @Option(help: "Seconds before giving up and tearing down anyway.") var limit = 3600

        func run() async throws {
            try await Lab.with(hosts: count) { lab in
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                let lines = lab.hosts.map { "\($0.name) \($0.address)" }.joined(separator: "\n") + "\n"
                try lines.write(toFile: "\(folder)/hosts.txt", atomically: true, encoding: .utf8)
                let config = lab.hosts.map {
                    "Host \($0.name)\n  HostName \($0.address)\n  User root\n  IdentityFile \(lab.privateKey)\n  IdentitiesOnly yes\n  UserKnownHostsFile \(lab.knownHostsFile)\n  StrictHostKeyChecking yes\n"
                }.joined()
                try config.write(toFile: "\(folder)/ssh_config", atomically: true, encoding: .utf8)
                try "\(lab.privateKey)\n\(lab.knownHostsFile)\n".write(toFile: "\(folder)/lab.txt", atomically: true, encoding: .utf8)
                // Unbuffered: the waiting script reads this line while we keep running.
                FileHandle.standardOutput.write(Data("READY \(lab.hosts.count) hosts\n".utf8))
                let deadline = ContinuousClock.now + .seconds(limit)
                while !FileManager.default.fileExists(atPath: "\(folder)/stop") && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
        }
    }

    struct SSHBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ssh-bench",
            abstract: "Measure the SSH layer on a lab host: connection time and per-command latency.")

        @Option(help: "Commands to time on one session.")
        var commands = 200
        @Option(help: "New connections to time.")
        var connections = 20

        func run() async throws {
            try await Lab.with(hosts: 1) { lab in
                let host = lab.hosts[0]
                let clock = ContinuousClock()
                var connects: [Duration] = []
                for _ in 0..<connections {
                    let t0 = clock.now
                    let connection = try await SSHConnection.connect(to: host.target, options: lab.sshOptions)
                    connects.append(clock.now - t0)
                    await connection.close()
                }
                let connection = try await SSHConnection.connect(to: host.target, options: lab.sshOptions)
                _ = try await connection.run("true")   // warm-up
                var latencies: [Duration] = []
                for _ in 0..<commands {
                    let t0 = clock.now
                    _ = try await connection.run("true")
                    latencies.append(clock.now - t0)
                }
                await connection.close()
                print("connect+handshake+auth (\(connections) runs): \(Timing.summary(connects))")
                print("command `true` on one session (\(commands) runs): \(Timing.summary(latencies))")
            }
        }
    }
}

enum Timing {
    static func format(_ duration: Duration) -> String {
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return ms < 1000 ? String(format: "%.1f ms", ms) : String(format: "%.2f s", ms / 1000)
    }

    static func summary(_ samples: [Duration]) -> String {
        let sorted = samples.sorted()
        func at(_ q: Double) -> Duration { sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
        return "p50 \(format(at(0.5)))  p99 \(format(at(0.99)))  min \(format(sorted[0]))  max \(format(sorted[sorted.count - 1]))"
    }
}
