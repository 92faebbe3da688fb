import Foundation
import SSHTransport

/// What one lab host should be.
public struct LabHostSpec: Sendable {
    public var name: String
    public var sshPort: Int
    /// `ssh-keygen -t` values for the host keys sshd offers.
    public var hostKeyTypes: [String]
    /// sshd's LogLevel (`DEBUG3` shows keepalives arriving).
    public var logLevel: String
    /// More sshd_config lines (`AllowTcpForwarding no`).
    public var sshdOptions: [String]

    public init(_ name: String, sshPort: Int = 22, hostKeyTypes: [String] = ["ed25519"], logLevel: String = "INFO", sshdOptions: [String] = []) {
        self.name = name
        self.sshPort = sshPort
        self.hostKeyTypes = hostKeyTypes
        self.logLevel = logLevel
        self.sshdOptions = sshdOptions
    }
}

/// A running lab host: a network namespace with its own address, mount and UTS namespaces, and
/// an OpenSSH sshd.
public struct LabHost: Sendable {
    public let name: String
    public let address: String
    public let sshPort: Int
    public let namespace: String
    public let sshdPID: Int32
    public let hostKeys: [PublicKeyBlob]

    public var target: SSHTarget { SSHTarget(host: address, port: sshPort, user: "root") }
}

/// A set of lab hosts on one bridge, reachable from this machine, torn down by PID.
///
/// Each host is a network namespace wired by veth to a bridge `lvsbrK` (10.200.K.0/24; this
/// machine is 10.200.K.254 on it; there is no default route, so nothing leaves the lab). Its sshd
/// runs in its own mount and UTS namespaces: `hostname` answers the host's name, and `/root`,
/// `/srv` and `/var/lib/lvsctl` are private tmpfs folders. The private `/root` is also why SSH
/// commands are fast here: this machine's root `.bashrc` runs slow shell setup (100–250 ms per
/// command) and the lab's root reads an empty one instead. Root logs in with the lab's ed25519
/// key or with `rootPassword` (a per-host /etc/shadow is bind-mounted for that).
public final class Lab: Sendable {
    public let index: Int
    public let directory: String
    public let bridge: String
    public let gatewayAddress: String
    public let hosts: [LabHost]
    public let privateKey: String
    public let knownHostsFile: String
    public let authorizedKeysFile: String
    public let rootPassword: String

    /// Where labs keep their state; every component must be root-owned and not group-writable
    /// (sshd's StrictModes checks the authorized_keys path).
    public static var stateRoot: String {
        ProcessInfo.processInfo.environment["LVSCTL_LAB_DIR"] ?? "/run/lvsctl-lab"
    }

    init(index: Int, directory: String, hosts: [LabHost], rootPassword: String) {
        self.index = index
        self.directory = directory
        self.bridge = "lvsbr\(index)"
        self.gatewayAddress = "10.200.\(index).254"
        self.hosts = hosts
        self.privateKey = directory + "/id_ed25519"
        self.knownHostsFile = directory + "/known_hosts"
        self.authorizedKeysFile = directory + "/authorized_keys"
        self.rootPassword = rootPassword
    }

    public subscript(name: String) -> LabHost {
        guard let host = hosts.first(where: { $0.name == name }) else { preconditionFailure("no lab host \(name)") }
        return host
    }

    /// SSH options that reach the lab: its known_hosts (strict checking) and its key.
    public var sshOptions: SSHOptions {
        .lab(knownHosts: knownHostsFile, key: privateKey, connectTimeout: .seconds(5), handshakeTimeout: .seconds(10))
    }

    /// Runs `body` with a new lab and always tears it down afterwards.
    public static func with<T>(_ specs: [LabHostSpec], _ body: (Lab) async throws -> T) async throws -> T {
        let lab = try await create(specs)
        do {
            let result = try await body(lab)
            await lab.destroy()
            return result
        } catch {
            await lab.destroy()
            throw error
        }
    }

    public static func with<T>(hosts count: Int, _ body: (Lab) async throws -> T) async throws -> T {
        try await with((1...count).map { LabHostSpec("host\($0)") }, body)
    }

    /// Runs a script on a lab host out of band (not over SSH): inside its network, mount and UTS
    /// namespaces, as root. For tests that inspect or disturb a host.
    public func shell(on host: LabHost, _ script: String) async throws -> ShellResult {
        try await Shell.bash("nsenter -t \(host.sshdPID) -n -m -u -- /bin/bash -c \(Shell.quote(script))")
    }

    /// Sends a signal (`KILL`, `STOP`, `CONT`) to every process of the host: its sshd and the
    /// sessions it forked.
    public func signal(_ signal: String, host: LabHost) async throws {
        try await Shell.bashChecked("pids=$(ip netns pids \(host.namespace)); [ -z \"$pids\" ] || kill -\(signal) $pids",
                                    what: "kill -\(signal) on \(host.name)")
    }

    /// What the host's sshd has logged so far.
    public func sshdLog(of host: LabHost) -> String {
        (try? String(contentsOfFile: "\(directory)/\(host.name)/sshd.log", encoding: .utf8)) ?? ""
    }

    /// Adds a public key to the keys root may log in with on every lab host.
    public func authorize(publicKey line: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: authorizedKeysFile))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((line.trimmingCharacters(in: .whitespacesAndNewlines) + "\n").utf8))
    }

    /// Kills every process of every host (by PID), removes the namespaces, the bridge and the
    /// state folder. Safe to call twice.
    public func destroy() async {
        _ = try? await Shell.bash("bash \(Shell.quote(directory + "/teardown.sh"))")
    }
}
