import ArgumentParser
import Foundation
import LVSKit
import LVSRunner
import SSHTransport

extension HostKeyChecking: ExpressibleByArgument {}

/// How lvsctl reaches hosts; shared by every verb that uses SSH.
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Hosts worked on at once.")
    var forks = 20
    @Option(name: .customLong("known-hosts"), help: "known_hosts file to check host keys against (repeatable; default ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts).")
    var knownHosts: [String] = []
    @Option(name: .customLong("host-key-checking"), help: "strict (refuse unknown or changed keys), accept-new (record unknown keys), or off.")
    var hostKeyChecking: HostKeyChecking?
    @Option(name: [.customShort("F"), .customLong("ssh-config")], help: "OpenSSH client config to honour (HostName, Port, User, IdentityFile, UserKnownHostsFile, StrictHostKeyChecking); default: the inventory's ssh.config, else ~/.ssh/config.")
    var sshConfig: String?
    @Flag(name: .customLong("ask-become-pass"), help: "Ask once for the sudo password of hosts with `become: sudo`.")
    var askBecomePass = false
    @Option(name: .customLong("connect-timeout"), help: "Seconds to wait for a host's TCP connect and, again, for its SSH handshake.")
    var connectTimeout = 10
    @Option(help: "Only these hosts (comma-separated names).")
    var limit: String?
    @Option(name: .customLong("lock-wait"), help: "Seconds to wait for a host that another lvsctl run is changing (default: refuse at once, exit 75).")
    var lockWait = 0
    @Flag(help: "Print the recap as JSON on standard output (progress goes to standard error).")
    var json = false
    @Flag(name: .shortAndLong, help: "Show every step with its time, and round trips per host.")
    var verbose = false

    /// The hosts `--limit` names (nil: all). A name must be a host of the inventory: one with a
    /// role, or one still defined under `hosts:` that has left the cluster.
    func limitedHosts(of cluster: [HostState], inventory: Inventory) throws -> Set<String>? {
        guard let limit else { return nil }
        let names = limit.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for name in names where !cluster.contains(where: { $0.host.name == name }) && inventory.host(named: name) == nil {
            throw ValidationError("--limit names '\(name)', which is not a host of \(inventory.file)")
        }
        return Set(names)
    }

    /// Command-line options first, then the inventory's `ssh:` section, then OpenSSH's defaults.
    func access(for inventory: Inventory) -> HostAccess {
        let knownHostsFiles = !knownHosts.isEmpty ? knownHosts : inventory.knownHostsFiles.isEmpty ? nil : inventory.knownHostsFiles
        var access = HostAccess(sshConfig: SSHConfigFile.load(sshConfig ?? inventory.sshConfigFile ?? "~/.ssh/config"),
                                knownHostsFiles: knownHostsFiles, hostKeyChecking: hostKeyChecking)
        access.connectTimeout = .seconds(connectTimeout)
        access.handshakeTimeout = .seconds(max(connectTimeout, 20))
        if askBecomePass, let typed = getpass("sudo password: ") { access.becomePassword = String(cString: typed) }
        return access.knowing(inventory)
    }
}

/// Progress and reports, on standard output (or standard error under --json).
struct Reporter: Sendable {
    let json: Bool
    let verbose: Bool

    func say(_ text: String) {
        if json { FileHandle.standardError.write(Data((text + "\n").utf8)) } else { print(text) }
    }

    /// A host's lines when it finishes: its changes in plan's words, with how each went.
    func hostDone(_ report: HostReport, done: Int, total: Int) {
        let prefix = "[\(done)/\(total)] \(report.host)\(report.leaving ? " (left the cluster)" : "")"
        guard report.reachable else { say("\(prefix): UNREACHABLE: \(report.error ?? "")"); return }
        if let owner = report.lockedBy {
            say("\(prefix): LOCKED: host \(report.host) is being changed by another lvsctl run (\(owner)); nothing done")
            return
        }
        var lines: [String] = []
        for outcome in report.changes {
            let mark = outcome.status == .failed ? "FAILED   " : outcome.status == .notRun ? "not-run  " : "    "
            var line = "  \(mark)\(outcome.change.text)"
            if verbose && outcome.milliseconds > 0 { line += "  (\(outcome.milliseconds) ms)" }
            lines.append(line)
            if outcome.status == .failed || (outcome.status == .notRun && outcome.output != nil) {
                if let command = outcome.command { lines.append("        command: " + command.replacingOccurrences(of: "\n", with: "\n                 ")) }
                if let output = outcome.output, !output.isEmpty { lines.append("        output:  " + output.replacingOccurrences(of: "\n", with: "\n                 ")) }
            }
        }
        var summary = "\(prefix): " + String(format: "%.2f s", report.seconds)
        summary += report.changes.isEmpty ? ", nothing to change (\(report.unchanged) ok)" : ", \(report.unchanged) ok"
        if verbose { summary += ", \(report.roundTrips) round trip\(report.roundTrips == 1 ? "" : "s") after connecting" }
        if verbose, let route = report.route { summary += ", reached \(route)" }
        if report.handshakes > 1 { summary += " (the first connection failed before login: a fresh one succeeded)" }
        if let waited = report.waitedFor { summary += " (\(waited))" }
        if let error = report.error { summary += "  ERROR: \(error)" }
        say(([summary] + lines).joined(separator: "\n"))
    }

    func finish(_ recap: Recap) throws {
        if json { print(recap.json) } else { print(recap.text) }
        if recap.exitCode != 0 { throw ExitCode(recap.exitCode) }
    }
}
