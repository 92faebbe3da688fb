import Foundation

/// Where and as whom to connect.
public struct SSHTarget: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String

    public init(host: String, port: Int = 22, user: String = "root") {
        self.host = host
        self.port = port
        self.user = user
    }

    /// `user@host:port`, `[v6]:port` for IPv6 addresses.
    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "\(user)@\(h):\(port)"
    }
}

/// How strictly a server's host key is checked against known_hosts.
public enum HostKeyChecking: String, Sendable, CaseIterable {
    /// Unknown or changed keys are refused (the default, as OpenSSH `StrictHostKeyChecking yes`).
    case strict
    /// Trust on first use: record unknown keys, still refuse changed ones.
    case acceptNew = "accept-new"
    /// No checking at all: only for throw-away labs, and only when asked for by name.
    case off
}

/// Where a private key's passphrase comes from.
public enum Passphrase: Sendable, Equatable {
    case none
    case literal(String)
    /// The named environment variable; when unset and standard input is a terminal, ask once.
    case environment(String, promptIfTerminal: Bool)

    public static let standard = Passphrase.environment("LVSCTL_KEY_PASSPHRASE", promptIfTerminal: true)
}

/// One way to log in, tried in the order given.
public enum AuthMethod: Sendable, Equatable {
    /// ssh-agent at this socket, or at `SSH_AUTH_SOCK` when nil.
    case agent(socket: String? = nil)
    case privateKey(path: String, passphrase: Passphrase = .standard)
    case password(String)
}

public struct SSHOptions: Sendable {
    public var connectTimeout: Duration = .seconds(10)
    public var handshakeTimeout: Duration = .seconds(20)
    /// Per command, unless the call gives its own.
    public var commandTimeout: Duration = .seconds(600)
    /// libssh2 sends keepalives only when asked; we ask on this interval while waiting for output.
    public var keepaliveInterval: Duration = .seconds(10)
    public var hostKeyChecking: HostKeyChecking = .strict
    /// Read in order; `accept-new` appends to the first.
    public var knownHostsFiles: [String] = ["~/.ssh/known_hosts", "/etc/ssh/ssh_known_hosts"]
    public var authentication: [AuthMethod] = [
        .agent(),
        .privateKey(path: "~/.ssh/id_ed25519"),
        .privateKey(path: "~/.ssh/id_ecdsa"),
    ]
    /// Channels open at once on one connection (OpenSSH's default MaxSessions is 10).
    public var maxChannels: Int = 10

    public init() {}

    /// Options for a lab: its own known_hosts (checking stays strict) and its key.
    public static func lab(knownHosts: String, key: String, connectTimeout: Duration, handshakeTimeout: Duration) -> SSHOptions {
        var options = SSHOptions()
        options.knownHostsFiles = [knownHosts]
        options.authentication = [.privateKey(path: key, passphrase: .none)]
        options.connectTimeout = connectTimeout
        options.handshakeTimeout = handshakeTimeout
        return options
    }
}

/// `~` and `~/…` to the user's home folder.
func expandTilde(_ path: String) -> String {
    guard path == "~" || path.hasPrefix("~/") else { return path }
    let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
    return home + path.dropFirst()
}
