import Foundation
import LVSLab
import Testing
@testable import SSHTransport

/// Running commands: output, input, exit codes and signals, timeouts, many commands per session.
struct CommandTests {
    private func withConnection(_ body: (SSHConnection, Lab) async throws -> Void) async throws {
        try await Lab.with(hosts: 1) { lab in
            let connection = try await SSHConnection.connect(to: lab.hosts[0].target, options: lab.sshOptions)
            try await body(connection, lab)
            await connection.close()
        }
    }

    @Test func stdoutStderrAndExitCodeAreSeparate() async throws {
        try await withConnection { connection, _ in
            let result = try await connection.run("hostname; echo oops >&2; exit 3")
            #expect(result.standardOutput == "host1\n")
            #expect(result.standardError == "oops\n")
            #expect(result.status == .exited(3))
        }
    }

    @Test func standardInputReachesTheCommand() async throws {
        try await withConnection { connection, _ in
            let small = try await connection.run("tr a-z A-Z", stdin: Array("hello\n".utf8))
            #expect(small.standardOutput == "HELLO\n")
            // 4 MiB in and out at once: the writes and reads must interleave.
            let big = [UInt8](repeating: UInt8(ascii: "x"), count: 4 << 20)
            let echoed = try await connection.run("cat", stdin: big)
            #expect(echoed.stdout.count == big.count)
            #expect(echoed.status == .exited(0))
        }
    }

    /// Blocking "read stdout, then stderr" deadlocks once stderr passes the 2 MiB window.
    @Test func largeStderrFirstThenStdout() async throws {
        try await withConnection { connection, _ in
            let result = try await connection.run("head -c 8388608 /dev/zero >&2; head -c 3145728 /dev/zero; exit 7",
                                                  timeout: .seconds(60))
            #expect(result.stderr.count == 8 << 20)
            #expect(result.stdout.count == 3 << 20)
            #expect(result.status == .exited(7))
        }
    }

    @Test func signalIsReportedAsSuch() async throws {
        try await withConnection { connection, _ in
            let result = try await connection.run("kill -TERM $$")
            #expect(result.status == .signaled("TERM"))
            #expect(result.status.description == "killed by SIGTERM")
        }
    }

    @Test func commandTimeoutLeavesTheSessionUsable() async throws {
        try await withConnection { connection, _ in
            let clock = ContinuousClock()
            let started = clock.now
            let error = await expectSSHError { _ = try await connection.run("sleep 30", timeout: .milliseconds(500)) }
            #expect(error == .commandTimedOut(endpoint: connection.target.description, command: "sleep 30", seconds: 0.5))
            #expect(clock.now - started < .seconds(5))
            let after = try await connection.run("echo still here")
            #expect(after.standardOutput == "still here\n")
        }
    }

    @Test func manyCommandsOnOneSession() async throws {
        try await withConnection { connection, _ in
            for i in 0..<200 {
                let result = try await connection.run("echo \(i)")
                #expect(result.standardOutput == "\(i)\n")
            }
            #expect(await connection.roundTrips == 200)
        }
    }

    /// Commands sent at once share the session, never more than maxChannels at a time.
    @Test func concurrentCommandsShareTheSession() async throws {
        try await withConnection { connection, _ in
            let clock = ContinuousClock()
            let started = clock.now
            let outputs = try await withThrowingTaskGroup(of: String.self) { group in
                for i in 0..<25 { group.addTask { try await connection.run("sleep 0.3; echo \(i)").standardOutput } }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(outputs) == Set((0..<25).map { "\($0)\n" }))
            let elapsed = clock.now - started
            #expect(elapsed >= .milliseconds(900), "25 commands of 0.3 s with 10 channels need 3 waves")
            #expect(elapsed < .seconds(7), "they must overlap, not run one by one")
        }
    }

    /// sshd (MaxSessions 10) refuses channels past its limit; a refused open is tried again
    /// while our own channels wind down, so even a limit above the server's completes.
    @Test func channelsRefusedByTheServerAreRetried() async throws {
        try await Lab.with(hosts: 1) { lab in
            var options = lab.sshOptions
            options.maxChannels = 15
            let connection = try await SSHConnection.connect(to: lab.hosts[0].target, options: options)
            // Each command holds its channel until sshd has refused one (at most 10 s), so the
            // refusal does not depend on how fast a loaded machine opens channels: a fixed sleep
            // let the first commands finish before the eleventh open on a busy CI run.
            let log = "\(lab.directory)/\(lab.hosts[0].name)/sshd.log"
            let holdUntilRefused = "for _ in $(seq 100); do grep -q 'no more sessions' \(Shell.quote(log)) && break; sleep 0.1; done"
            let outputs = try await withThrowingTaskGroup(of: String.self) { group in
                for i in 0..<15 { group.addTask { try await connection.run("\(holdUntilRefused); echo \(i)").standardOutput } }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(outputs.count == 15)
            #expect(lab.sshdLog(of: lab.hosts[0]).contains("no more sessions"))
            await connection.close()
        }
    }

    /// libssh2 sends keepalives only when asked; we ask while a long command runs.
    @Test func keepalivesFlowDuringALongCommand() async throws {
        try await Lab.with([LabHostSpec("host1", logLevel: "DEBUG3")]) { lab in
            var options = lab.sshOptions
            options.keepaliveInterval = .seconds(1)
            let connection = try await SSHConnection.connect(to: lab.hosts[0].target, options: options)
            _ = try await connection.run("sleep 3.5")
            await connection.close()
            let seen = lab.sshdLog(of: lab.hosts[0]).components(separatedBy: "keepalive@libssh2.org").count - 1
            #expect(seen >= 2)
        }
    }
}
