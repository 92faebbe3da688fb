import Foundation

/// Everything that can go wrong talking to a host, each with a sentence a person can act on.
/// libssh2's numeric codes never reach the user alone; where one helps, it follows the sentence.
public enum SSHError: Error, Equatable, Sendable, CustomStringConvertible {
    case resolveFailed(host: String, reason: String)
    case connectFailed(endpoint: String, reason: String)
    case connectTimedOut(endpoint: String, seconds: Double)
    case handshakeTimedOut(endpoint: String, seconds: Double)
    case handshakeFailed(endpoint: String, reason: String)
    case hostKeyUnknown(endpoint: String, keyType: String, fingerprint: String, knownHostsFile: String)
    case hostKeyChanged(endpoint: String, keyType: String, fingerprint: String, knownHostsFile: String, line: Int)
    case hostKeyRevoked(endpoint: String, keyType: String, fingerprint: String, knownHostsFile: String, line: Int)
    case authenticationFailed(endpoint: String, user: String, attempts: [String])
    case commandTimedOut(endpoint: String, command: String, seconds: Double)
    case connectionLost(endpoint: String, during: String, reason: String)
    case channelFailed(endpoint: String, reason: String)
    case sftpFailed(endpoint: String, path: String, reason: String)
    case closed(endpoint: String)
    case tunnelFailed(jump: String, destination: String, reason: String)

    public var description: String {
        switch self {
        case let .resolveFailed(host, reason):
            return "cannot resolve host '\(host)': \(reason). Check the address in the inventory or ~/.ssh/config."
        case let .connectFailed(endpoint, reason):
            return "cannot connect to \(endpoint): \(reason). Is sshd running there, and is the address and port right?"
        case let .connectTimedOut(endpoint, seconds):
            return "connecting to \(endpoint) timed out after \(Self.format(seconds)) s: no answer to the TCP connect. Check the address, routes and firewalls."
        case let .handshakeTimedOut(endpoint, seconds):
            return "\(endpoint) accepted the connection but did not complete the SSH handshake within \(Self.format(seconds)) s: is an SSH server listening on that port?"
        case let .handshakeFailed(endpoint, reason):
            return "SSH handshake with \(endpoint) failed: \(reason)"
        case let .hostKeyUnknown(endpoint, keyType, fingerprint, file):
            return "host key of \(endpoint) is not known: \(keyType) \(fingerprint) is not in \(file). "
                + "Check the fingerprint out of band, then add it (ssh-keyscan), or pass --host-key-checking accept-new to trust it on first use."
        case let .hostKeyChanged(endpoint, keyType, fingerprint, file, line):
            return "HOST KEY OF \(endpoint) HAS CHANGED: it now offers \(keyType) \(fingerprint), which does not match \(file):\(line). "
                + "Someone may be intercepting the connection, or the host was reinstalled. If you know why, remove that line (ssh-keygen -R) and connect again."
        case let .hostKeyRevoked(endpoint, keyType, fingerprint, file, line):
            return "host key of \(endpoint) (\(keyType) \(fingerprint)) is marked @revoked in \(file):\(line): refusing to connect."
        case let .authenticationFailed(endpoint, user, attempts):
            let tried = attempts.isEmpty ? " (no authentication method was configured)" : ":\n  - " + attempts.joined(separator: "\n  - ")
            return "cannot log in to \(endpoint) as \(user)\(tried)"
        case let .commandTimedOut(endpoint, command, seconds):
            return "command on \(endpoint) did not finish within \(Self.format(seconds)) s: \(Self.abbreviate(command))"
        case let .connectionLost(endpoint, during, reason):
            return "lost the connection to \(endpoint) during \(during): \(reason)"
        case let .channelFailed(endpoint, reason):
            return "cannot open a command channel on \(endpoint): \(reason)"
        case let .sftpFailed(endpoint, path, reason):
            return "SFTP on \(endpoint) failed for \(path): \(reason)"
        case let .tunnelFailed(jump, destination, reason):
            let hint = reason.contains("prohibited") ? " (its sshd forbids forwarding: AllowTcpForwarding no?)" : ""
            return "\(jump) could not open a connection to \(destination) for us: \(reason)\(hint)"
        case let .closed(endpoint):
            return "the connection to \(endpoint) is closed"
        }
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
    }

    static func abbreviate(_ command: String) -> String {
        let firstLine = command.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        let short = firstLine.count > 80 ? String(firstLine.prefix(77)) + "..." : firstLine
        return command.contains("\n") ? short + " [...]" : short
    }
}
