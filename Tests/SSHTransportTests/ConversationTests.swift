import Foundation
import LVSLab
import Testing
@testable import SSHTransport

/// A command fed in parts, each answered before the next: one remote shell across exchanges.
struct ConversationTests {
    @Test func exchangesWithOneShell() async throws {
        try await Lab.with(hosts: 1) { lab in
            let connection = try await SSHConnection.connect(to: lab.hosts[0].target, options: lab.sshOptions)
            let shell = try await connection.start("/bin/sh -s")
            try await connection.send(Array("echo first $$; echo @@end\n".utf8), to: shell)
            let first = try await connection.receive(from: shell, untilLine: "@@end")
            #expect(first.sawMarker && first.text.hasPrefix("first "))
            // The same process answers the second part: its PID did not change.
            try await connection.send(Array("echo second $$; echo '@@end and the rest of the line'\necho tail\n".utf8), to: shell)
            let second = try await connection.receive(from: shell, untilLine: "@@end")
            #expect(second == Received(text: "second \(first.text.dropFirst(6))", sawMarker: true))
            // A marker that never comes: the command's end answers instead, with what came before it.
            try await connection.send(Array("exit 0\n".utf8), to: shell)
            let third = try await connection.receive(from: shell, untilLine: "@@never")
            #expect(third == Received(text: "tail\n", sawMarker: false))
            let result = try await connection.finish(shell)
            #expect(result.status == .exited(0))
            #expect(result.standardOutput.hasSuffix("tail\n"))
            #expect(await connection.roundTrips == 3)
            await connection.close()
        }
    }

    /// A shell that prints, then ends a moment later (its end in a packet of its own, with no
    /// data): `receive` answers at its end, not at the next keepalive. It waited 9–10 s for that
    /// in every other `up` whose real server failed a step.
    @Test func endAfterTheLastOutputIsSeenAtOnce() async throws {
        try await Lab.with(hosts: 1) { lab in
            let connection = try await SSHConnection.connect(to: lab.hosts[0].target, options: lab.sshOptions)
            for _ in 1...3 {
                let shell = try await connection.start("/bin/sh -s")
                try await connection.send(Array("echo failed >&2; echo done; sleep 0.3; exit 0\n".utf8), to: shell)
                let clock = ContinuousClock(), started = clock.now
                let answer = try await connection.receive(from: shell, untilLine: "@@never")
                #expect(answer == Received(text: "done\n", sawMarker: false))
                #expect(clock.now - started < .seconds(4), "the shell's end was seen after \(clock.now - started)")
                #expect(try await connection.finish(shell).status == .exited(0))
            }
            await connection.close()
        }
    }

    /// A marker split across reads, and a line that only contains the marker later in it.
    @Test func markerFoundOnlyAtTheStartOfALine() {
        let bytes = Array("x @@end\n@@en".utf8)
        #expect(SSHConnection.lineStart(Array("@@end".utf8), in: bytes, from: 0, lineStartAfter: 0) == nil)
        let complete = bytes + Array("d\n".utf8)
        #expect(SSHConnection.lineStart(Array("@@end".utf8), in: complete, from: 4, lineStartAfter: 0) == 8)
    }

    /// Closing the connection while a shell waits for more input ends that shell (sshd closes its
    /// standard input), which is what releases a host's lock when lvsctl dies.
    @Test func abandonedShellSeesEndOfInput() async throws {
        try await Lab.with(hosts: 1) { lab in
            let connection = try await SSHConnection.connect(to: lab.hosts[0].target, options: lab.sshOptions)
            let shell = try await connection.start("/bin/sh -s")
            try await connection.send(Array("echo $$ > /var/lib/lvsctl/pid; echo @@ready\n".utf8), to: shell)
            #expect(try await connection.receive(from: shell, untilLine: "@@ready").sawMarker)
            await connection.close()
            let gone = try await lab.shell(on: lab.hosts[0], """
                pid=$(cat /var/lib/lvsctl/pid); rm -f /var/lib/lvsctl/pid
                for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || { echo gone; exit 0; }; sleep 0.1; done; echo alive
                """)
            #expect(gone.stdout == "gone\n")
        }
    }
}
