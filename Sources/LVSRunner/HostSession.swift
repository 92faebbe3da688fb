import Foundation
import LVSKit
import SSHTransport

/// One conversation with one host: an SSH connection and one `/bin/sh` running as root, fed a
/// part at a time (`HostScript.part`). The shell holds the host's lock until `close`, or until
/// the connection goes away with lvsctl.
final class HostSession: @unchecked Sendable {   // used by one task at a time
    let host: InventoryHost
    let address: String
    let connection: SSHConnection
    let user: String
    private let shell: RemoteCommand
    private var parts = 0
    /// The shell ended (a step failed, the lock was taken, or it could not run at all).
    private(set) var ended = false

    /// What went wrong before or while talking to the host.
    enum Failure: Error {
        case unreachable(String)
        case failed(String)
    }

    private init(host: InventoryHost, address: String, connection: SSHConnection, user: String, shell: RemoteCommand) {
        self.host = host
        self.address = address
        self.connection = connection
        self.user = user
        self.shell = shell
    }

    /// Connects and starts the shell (through sudo when the host says so); no part sent yet.
    static func connect(_ host: InventoryHost, access: HostAccess) async throws(Failure) -> HostSession {
        let (target, _) = access.connection(for: host)
        let connection: SSHConnection
        do { connection = try await access.connect(host) } catch { throw .unreachable("\(error)") }
        let (command, prefix) = access.shell(for: host, user: target.user)
        do {
            let shell = try await connection.start(command, timeout: access.commandTimeout)
            let session = HostSession(host: host, address: target.host, connection: connection, user: target.user, shell: shell)
            if !prefix.isEmpty { try await connection.send(Array(prefix.utf8), to: shell) }
            return session
        } catch {
            await connection.close()
            throw .unreachable("\(error)")
        }
    }

    /// Sends one part and reads what it printed, up to its end marker (or the shell's end); with
    /// `pausingAt`, only up to that line (`resume` reads the rest).
    func send(_ body: String, pausingAt marker: String? = nil) async throws(Failure) -> HostOutput {
        guard !ended else { return HostOutput() }
        parts += 1
        do {
            try await connection.send(Array(HostScript.part(parts, body).utf8), to: shell)
        } catch {
            throw .failed("\(error)")
        }
        return try await read(until: marker ?? "\(HostMarker.end) \(parts)", newExchange: true)
    }

    /// The rest of the part `send` paused in.
    func resume() async throws(Failure) -> HostOutput {
        guard !ended else { return HostOutput() }
        return try await read(until: "\(HostMarker.end) \(parts)", newExchange: false)
    }

    private func read(until marker: String, newExchange: Bool) async throws(Failure) -> HostOutput {
        do {
            let received = try await connection.receive(from: shell, untilLine: marker, newExchange: newExchange)
            if !received.sawMarker { ended = true }
            return HostOutput(received.text)
        } catch {
            throw .failed("\(error)")
        }
    }

    /// Ends the conversation (closing the shell's input releases the lock) and the connection;
    /// answers why the shell could not run, if that is what happened.
    func close() async -> String? {
        var problem: String?
        do {
            let result = try await connection.finish(shell)
            problem = Self.problem(result, host: host, user: user)
        } catch {
            problem = ended ? "\(error)" : nil
        }
        await connection.close()
        return problem
    }

    var roundTrips: Int { get async { await connection.roundTrips } }
    var handshakes: Int { get async { await connection.handshakeAttempts } }

    /// A shell that could not run at all: sudo wanting a password, no /bin/sh.
    static func problem(_ result: CommandResult, host: InventoryHost, user: String) -> String? {
        if result.standardError.contains("a password is required") || result.standardError.contains("a terminal is required") {
            return "sudo on \(host.name) wants a password for \(user): pass --ask-become-pass, or allow \(user) NOPASSWD sudo"
        }
        if result.standardError.contains("incorrect password") || result.standardError.contains("Sorry, try again") {
            return "sudo on \(host.name) refused the password given for \(user)"
        }
        switch result.status {
        case .exited(0): return nil
        case let status:
            let detail = result.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            return "the host script on \(host.name) ended with \(status)\(detail.isEmpty ? "" : ": \(detail)")"
        }
    }
}
