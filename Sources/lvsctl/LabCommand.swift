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
        Lab hosts are network namespaces on this machine, each with its own addresses, sysctls, \
        private /root, /srv and /var/lib/lvsctl, and its own OpenSSH sshd. They are reached over \
        real SSH with host-key checking on. Needs root, iproute2, openssh-server and openssl \
        (scripts/bootstrap installs them).
        """,
        subcommands: [Up.self, Down.self, Status.self, Demo.self, Hosts.self, SSHBench.self]
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
            for mode in ["nat", "dr", "tun"] { print("  \(lab.folder)/lab-\(mode).yml") }
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
            for host in lab.topology.hosts {
                let name = host.spec.name
                do {
                    let connection = try await SSHConnection.connect(to: lab.target(name), options: lab.sshOptions)
                    await connection.close()
                    print("  \(name.padding(toLength: 9, withPad: " ", startingAt: 0)) 127.0.0.1:\(lab.port(of: name))  \(host.interfaces.map(\.address).joined(separator: ", "))  ssh ok")
                } catch {
                    print("  \(name) 127.0.0.1:\(lab.port(of: name))  \(error)")
                }
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
                    failed = try await demo(mode: mode, lab: lab, library: library, timings: timings) || failed
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
            print(timings.table())
            if failed { throw ExitCode(1) }
        }

        /// One mode: up, verify (answers and IPVS table), up again, down. Answers whether anything failed.
        func demo(mode: String, lab: VMLab, library: PlaybookLibrary, timings: PhaseTimings) async throws -> Bool {
            let file = "\(lab.folder)/lab-\(mode).yml"
            let inventory = try InventoryParser.parse(String(contentsOfFile: file, encoding: .utf8), file: file).get()
            let plans = try Renderer(library: library).render(inventory)
            var access = HostAccess(knownHostsFiles: inventory.knownHostsFiles)
            access.handshakeTimeout = .seconds(30)
            let runner = ClusterRunner(access: access)
            let name = mode.uppercased()
            print("\n==> \(name): lvsctl up -i \(file)")
            let up = await timings.time("\(name) up") { await runner.run(.up, plans: plans, inventory: file) }
            print(summary(up))
            print("==> \(name): 12 requests from the client to http://192.168.0.200/")
            let report = await timings.time("\(name) verify") { await Verifier(access: access).verify(inventory, requests: 12, fromLocal: false) }
            let answers = report.services.first?.sequence.map { host in inventory.page(for: host) } ?? []
            for (index, answer) in answers.enumerated() { print("    \(index + 1). \(answer)") }
            for verdict in report.services.flatMap(\.verdicts) + report.table { print(VerifyText.line(verdict)) }
            if let director = inventory.host(named: "director") {
                let table = try? await access.withConnection(to: director) { connection, _ in
                    try await connection.run("sleep 2.5; ipvsadm -L -n --stats").standardOutput   // counters are summed every ~2 s
                }
                print("==> \(name): ipvsadm -L -n --stats on the director\n" + (table ?? "    (could not read it)"), terminator: "")
            }
            let again = await timings.time("\(name) up again") { await runner.run(.up, plans: plans, inventory: file) }
            print("==> \(name): second up: \(again.hosts.map { $0.count(.changed) }.reduce(0, +)) changed")
            let down = await timings.time("\(name) down") { await runner.run(.down, plans: plans, inventory: file) }
            print("==> \(name): down: \(down.hosts.map { $0.count(.restored) }.reduce(0, +)) changes undone, every host as before")
            return up.exitCode != 0 || !report.passed || again.exitCode != 0 || down.exitCode != 0
        }

        func summary(_ recap: Recap) -> String {
            recap.hosts.map { host in
                host.reachable ? "    \(host.host): \(host.count(.changed)) changed, \(host.count(.ok)) ok, \(host.count(.failed)) failed (\(String(format: "%.1f", host.seconds)) s)"
                    : "    \(host.host): UNREACHABLE \(host.error ?? "")"
            }.joined(separator: "\n")
        }
    }

    /// How long each phase of the demo took, in order, for the table printed at the end.
    final class PhaseTimings {
        private let clock = ContinuousClock()
        private let started = ContinuousClock.now
        private var phases: [(String, Duration)] = []

        func time<T>(_ name: String, _ body: () async throws -> T) async rethrows -> T {
            let t0 = clock.now
            let result = try await body()
            phases.append((name, clock.now - t0))
            return result
        }

        func table() -> String {
            (phases + [("total", clock.now - started)])
                .map { "    \($0.0.padding(toLength: 16, withPad: " ", startingAt: 0)) \(Timing.format($0.1))" }
                .joined(separator: "\n")
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
