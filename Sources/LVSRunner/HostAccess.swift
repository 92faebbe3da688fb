import Foundation
import LVSKit
import SSHTransport

/// How to reach the cluster's hosts: the inventory's host entries, completed from the SSH client
/// config, then from command-line defaults.
public struct HostAccess: Sendable {
    public var sshConfig: SSHConfigFile
    public var knownHostsFiles: [String]
    public var hostKeyChecking: HostKeyChecking
    public var connectTimeout: Duration = .seconds(10)
    public var handshakeTimeout: Duration = .seconds(20)
    public var commandTimeout: Duration = .seconds(600)
    /// Typed once when asked for (--ask-become-pass), for hosts with `become: sudo`.
    public var becomePassword: String?
    /// The inventory's hosts by name: where a `jump:` or a ProxyJump name leads.
    public var inventoryHosts: [String: InventoryHost] = [:]
    /// Jump connections, shared by every host behind them and by every copy of this value.
    public let jumpPool = JumpPool()

    public init(sshConfig: SSHConfigFile = SSHConfigFile(), knownHostsFiles: [String]? = nil,
                hostKeyChecking: HostKeyChecking? = nil) {
        self.sshConfig = sshConfig
        self.knownHostsFiles = knownHostsFiles ?? ["~/.ssh/known_hosts", "/etc/ssh/ssh_known_hosts"]
        self.hostKeyChecking = hostKeyChecking ?? .strict
    }

    /// Where and as whom to connect, and with which options. Explicit inventory values win over
    /// ~/.ssh/config, which wins over defaults (port 22, user root).
    public func connection(for host: InventoryHost) -> (SSHTarget, SSHOptions) {
        let config = sshConfig.options(for: host.name).merging(sshConfig.options(for: host.address)) { first, _ in first }
        let address = config["hostname"] ?? host.address
        let target = SSHTarget(host: host.address == host.name ? address : host.address,
                               port: host.port ?? config["port"].flatMap(Int.init) ?? 22,
                               user: host.user ?? config["user"] ?? "root")
        var options = SSHOptions()
        options.connectTimeout = config["connecttimeout"].flatMap(Int64.init).map { .seconds($0) } ?? connectTimeout
        options.commandTimeout = commandTimeout
        options.handshakeTimeout = handshakeTimeout
        options.knownHostsFiles = config["userknownhostsfile"].map { $0.split(separator: " ").map(String.init) } ?? knownHostsFiles
        options.hostKeyChecking = hostKeyChecking
        if hostKeyChecking == .strict, let strict = config["stricthostkeychecking"]?.lowercased() {
            options.hostKeyChecking = strict == "no" || strict == "off" ? .off : strict == "accept-new" ? .acceptNew : .strict
        }
        var auth: [AuthMethod] = [.agent()]
        if let identity = host.identityFile ?? config["identityfile"] {
            auth.append(.privateKey(path: identity))
        } else {
            auth += [.privateKey(path: "~/.ssh/id_ed25519"), .privateKey(path: "~/.ssh/id_ecdsa")]
        }
        options.authentication = auth
        return (target, options)
    }

    /// Connects to `host` (through its jump hosts), runs `body`, and closes the connection
    /// whatever happens.
    public func withConnection<T: Sendable>(to host: InventoryHost, _ body: (SSHConnection, SSHTarget) async throws -> T) async throws -> T {
        let (target, _) = connection(for: host)
        return try await closing(try await connect(host)) { try await body($0, target) }
    }

    /// Runs `body` on a connection made earlier (say, in parallel with other work), and closes it
    /// whatever happens.
    public func closing<T: Sendable>(_ connection: SSHConnection, _ body: (SSHConnection) async throws -> T) async throws -> T {
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    /// The director's live IPVS table (with traffic counters when `stats`), read over `connection`.
    public func readIPVSTable(on connection: SSHConnection, director: InventoryHost, stats: Bool) async throws -> IPVSTable {
        let user = self.connection(for: director).0.user
        let output = try await runAsRoot(HostScript.readIPVSTable(stats: stats), on: connection, host: director, user: user).standardOutput
        return HostOutput(output).ipvsTable ?? IPVSTable()
    }

    /// Runs `script` as root on `host` over `connection` (through sudo when the host says so).
    public func runAsRoot(_ script: String, on connection: SSHConnection, host: InventoryHost, user: String) async throws -> CommandResult {
        let (command, prefix) = shell(for: host, user: user)
        return try await connection.run(command, stdin: Array((prefix + script).utf8), timeout: commandTimeout)
    }

    /// The command that runs a script from standard input as root on this host.
    public func shell(for host: InventoryHost, user: String) -> (command: String, stdinPrefix: String) {
        guard host.become == .sudo, user != "root" else { return ("/bin/sh -s", "") }
        if let becomePassword { return ("sudo -S -p '' /bin/sh -s", becomePassword + "\n") }
        return ("sudo -n /bin/sh -s", "")
    }
}
