import Foundation
import LVSKit
import LVSLab
import LVSRunner
import Testing

/// One lvsctl per host at a time, and every verb safe to kill at any point and run again.
@Suite(.serialized) struct InterruptionTests {
    /// Another run holds host2: `up` changes nothing there and says who; with --lock-wait it
    /// waits its turn instead.
    @Test func heldHostIsRefusedThenWaitedFor() async throws {
        try await Lab.with(hosts: 4) { lab in
            let cluster = try LocalCluster(lab, mode: "dr")
            let before = try await cluster.snapshot("host2")
            let release = "/run/lvsctl-release-\(getpid())"
            // The other run holds the lock until told to let go: never on a clock, which a loaded
            // machine outruns (a fixed 3 s hold once ended before `up` reached the host).
            _ = try await lab.shell(on: lab["host2"], """
                setsid sh -c 'exec 9>>/var/lib/lvsctl/lock; flock -x 9; echo "up started at noon by someone@elsewhere" > /var/lib/lvsctl/lock; : > /var/lib/lvsctl/held
                  i=0; while [ ! -e \(release) ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done' \
                  </dev/null >/dev/null 2>&1 &
                for i in $(seq 200); do [ -e /var/lib/lvsctl/held ] && break; sleep 0.05; done; rm -f /var/lib/lvsctl/held
                """)
            let refused = await cluster.run(.up, only: ["host2"])
            #expect(refused.exitCode == 75)
            #expect(outcome(refused, "host2")?.lockedBy == "up started at noon by someone@elsewhere")
            #expect(refused.text.contains("host2     locked: being changed by another lvsctl run (up started at noon by someone@elsewhere); nothing done"))
            #expect(try await lab.shell(on: lab["host2"], "ls -A /var/lib/lvsctl").stdout == "lock\n", "nothing but the other run's lock")
            // The waiting run is let in once it is seen waiting on the lock (its flock -w).
            let waiting = try LocalCluster(lab, mode: "dr", lockWait: 60)
            async let waited = waiting.run(.up, only: ["host2"])
            let seen = try await lab.shell(on: lab["host2"], """
                for i in $(seq 400); do pgrep -f 'flock -x -w [6]0' >/dev/null && { echo waiting; break; }; sleep 0.05; done
                : > \(release)
                """)
            let up = await waited
            #expect(seen.stdout == "waiting\n", "the second up never waited on the lock")
            #expect(up.exitCode == 0, "\(up.text)")
            _ = try await lab.shell(on: lab["host2"], "rm -f \(release)")
            _ = await waiting.run(.down, only: ["host2"])
            _ = try await lab.shell(on: lab["host2"], "rm -f /var/lib/lvsctl/lock")   // the other run's file
            #expect(try await cluster.snapshot("host2") == before)
        }
    }

    /// Another run holds the director: `up` stops there. The real servers' connections, opened
    /// while the director was tried, carried nothing and are closed: each is as it was, and its
    /// sshd holds no session of this run.
    @Test func heldDirectorStopsTheRunBeforeTheOthers() async throws {
        try await Lab.with(hosts: 4) { lab in
            let cluster = try LocalCluster(lab, mode: "dr")
            let before = try await cluster.snapshot("host2")
            _ = try await lab.shell(on: lab["host1"], """
                mkdir -p /var/lib/lvsctl; setsid sh -c 'exec 9>>/var/lib/lvsctl/lock; flock -x 9; echo "up by someone else" > /var/lib/lvsctl/lock; : > /var/lib/lvsctl/held
                  i=0; while [ ! -e /var/lib/lvsctl/release ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done' </dev/null >/dev/null 2>&1 &
                for i in $(seq 200); do [ -e /var/lib/lvsctl/held ] && break; sleep 0.05; done
                """)
            let refused = await cluster.run(.up)
            _ = try await lab.shell(on: lab["host1"], ": > /var/lib/lvsctl/release; sleep 0.2; rm -rf /var/lib/lvsctl")
            #expect(refused.exitCode == 75, "\(refused.text)")
            #expect(outcome(refused, "host1")?.lockedBy == "up by someone else")
            for name in ["host2", "host3"] {
                #expect(outcome(refused, name)?.error == "not contacted: director host1 could not be used", "\(refused.text)")
                let sessions = try await lab.shell(on: lab[name], """
                    for i in $(seq 100); do n=$(ss -Htn state established '( sport = :22 )' | wc -l); [ "$n" = 0 ] && break; sleep 0.05; done; echo $n
                    """)
                #expect(sessions.stdout == "0\n", "\(name) still holds \(sessions.stdout) connections")
            }
            #expect(try await cluster.snapshot("host2") == before)
        }
    }

    /// A run whose lvsctl is gone (its shell, handed to init, still finishing a part) holds
    /// host2: the next `up` waits for it without being asked to, says so, and succeeds.
    @Test func orphanedRunIsWaitedForNotRefused() async throws {
        try await Lab.with(hosts: 4) { lab in
            let cluster = try LocalCluster(lab, mode: "dr")
            let release = "/run/lvsctl-release-orphan-\(getpid())"
            _ = try await lab.shell(on: lab["host2"], """
                setsid sh -c 'exec 9>>/var/lib/lvsctl/lock; flock -x 9; printf "up started at noon by someone@elsewhere, pid 1\\n%s\\n" $$ > /var/lib/lvsctl/lock; : > /var/lib/lvsctl/held
                  i=0; while [ ! -e \(release) ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done' \
                  </dev/null >/dev/null 2>&1 &
                for i in $(seq 200); do [ -e /var/lib/lvsctl/held ] && break; sleep 0.05; done; rm -f /var/lib/lvsctl/held
                """)
            async let waited = cluster.run(.up, only: ["host2"])
            // `[3]00`: the pattern matches the waiting flock, not this shell's own command line.
            let seconds = String(HostScript.orphanWait), notItself = "[\(seconds.prefix(1))]\(seconds.dropFirst())"
            let seen = try await lab.shell(on: lab["host2"], """
                for i in $(seq 400); do pgrep -f 'flock -x -w \(notItself)' >/dev/null && { echo waiting; break; }; sleep 0.05; done
                : > \(release)
                """)
            let up = await waited
            #expect(seen.stdout == "waiting\n", "the up never waited on the orphan's lock")
            #expect(up.exitCode == 0, "\(up.text)")
            let note = outcome(up, "host2")?.waitedFor ?? ""
            #expect(note.hasPrefix("waited ") && note.hasSuffix(" s for the shell of a run whose lvsctl is gone (up started at noon by someone@elsewhere, pid 1) to finish its part"), "\(note)\n\(up.text)")
            _ = try await lab.shell(on: lab["host2"], "rm -f \(release)")
            #expect(await cluster.run(.down, only: ["host2"]).exitCode == 0)
        }
    }

    /// lvsctl killed (SIGKILL) at a random moment of `up`, then of `down`, ten times each; each
    /// time a `down` afterwards exits 0 and leaves every host exactly as before.
    @Test(arguments: [Verb.up, .down])
    func killedAtRandomThenDownRestores(_ killed: Verb) async throws {
        try await Lab.with(hosts: 4) { lab in
            let cluster = try LocalCluster(lab, mode: "dr")
            let servers = ["host2", "host3"]
            var before: [String: String] = [:]
            for name in servers { before[name] = try await cluster.snapshot(name) }
            let program = try lvsctlBinary()
            let limit = ["--limit", servers.joined(separator: ","), "--data", repositoryRoot]
            var delays: [Int] = []
            for trial in 1...10 {
                if killed == .down {
                    let up = await cluster.run(.up, only: Set(servers))
                    #expect(up.exitCode == 0, "trial \(trial): \(up.text)")
                }
                let delay = Int.random(in: 20...450)
                delays.append(delay)
                try await killProgram(program, [killed.rawValue, "-i", cluster.file] + limit, after: delay)
                let down = try await runProgram(program, ["down", "-i", cluster.file] + limit)
                #expect(down.status == 0, "trial \(trial), \(killed.rawValue) killed after \(delay) ms: down exited \(down.status):\n\(down.output)")
                for name in servers {
                    let after = try await cluster.snapshot(name)
                    #expect(after == before[name], "trial \(trial), \(killed.rawValue) killed after \(delay) ms: \(name) differs:\n\(LabSnapshot.difference(before[name] ?? "", after))")
                }
            }
            print("\(killed.rawValue) killed after (ms): \(delays)")
        }
    }
}

/// Starts the lvsctl program and kills it (SIGKILL) after `milliseconds`, whatever it is doing.
func killProgram(_ program: String, _ arguments: [String], after milliseconds: Int) async throws {
    try await LocalProgram.whileRunning(program, arguments) { try await Task.sleep(for: .milliseconds(milliseconds)) }
}

/// Runs the lvsctl program to its end; answers its exit status and what it printed (its output,
/// then its errors), awaited without holding a pool thread (see LocalProgram).
func runProgram(_ program: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let result = try await LocalProgram.run(program, arguments)
    return (result.status, result.output + result.errors)
}
