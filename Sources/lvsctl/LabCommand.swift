import ArgumentParser
import Foundation
import LVSLab
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
        subcommands: [Demo.self, SSHBench.self]
    )

    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring up lab hosts, run a command on each over SSH, tear them down.")

        @Option(name: .shortAndLong, help: "How many lab hosts.")
        var hosts = 3

        func run() async throws {
            let clock = ContinuousClock()
            let started = clock.now
            print("==> building \(hosts) lab hosts (network namespaces, one sshd each)")
            try await Lab.with(hosts: hosts) { lab in
                let built = clock.now
                print("    ready in \(Timing.format(built - started)): bridge \(lab.bridge), known_hosts \(lab.knownHostsFile)")
                print("==> running `hostname; ip -4 -o addr show eth0` on each host over SSH (strict host-key checking)")
                let results = try await withThrowingTaskGroup(of: (String, String, Duration).self) { group in
                    for host in lab.hosts {
                        group.addTask {
                            let t0 = clock.now
                            let connection = try await SSHConnection.connect(to: host.target, options: lab.sshOptions)
                            let out = try await connection.run("echo \"$(hostname): $(ip -4 -o addr show eth0 | awk '{print $4}')\"")
                            await connection.close()
                            return (host.name, out.standardOutput.trimmingCharacters(in: .newlines), clock.now - t0)
                        }
                    }
                    return try await group.reduce(into: [(String, String, Duration)]()) { $0.append($1) }
                }
                for (_, line, took) in results.sorted(by: { $0.0 < $1.0 }) {
                    print("    \(line)   (\(Timing.format(took)) connect+run+close)")
                }
                print("==> tearing the lab down (every process by PID, namespaces, bridge)")
            }
            print("done in \(Timing.format(clock.now - started))")
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
