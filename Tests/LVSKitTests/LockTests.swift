import Foundation
import LVSRunner
import Testing
@testable import LVSKit

/// The host's lock as the shell takes it, on this machine's /bin/sh and flock.
struct LockTests {
    /// The lock names a holder that has just ended (its process is gone; a `flock` standing in
    /// for what still closes the lock lets go 0.5 s later): the run tries again a moment later and
    /// takes it, where it used to answer "locked" (a kill drill's `down` was refused so, exit 75).
    @Test func aHolderGoneAtTheFirstLookIsTriedAgainNotRefused() async throws {
        let (host, holder) = try Self.heldByAGoneRun(seconds: "0.5")
        defer { holder.terminate(); holder.waitUntilExit() }
        let (output, _) = try await host.run("lvsctl_lock -x 0 test\necho taken > \"$S/taken\"\n")
        #expect(output.locked == nil && host.text("state/taken") == "taken\n", "\(output)")
    }

    /// The same holder keeps the lock past the moments the run tries again: refused, saying who,
    /// after about a second (not the minutes of a wait it was not asked for).
    @Test func aHolderGoneThatKeepsTheLockIsRefusedSoon() async throws {
        let (host, holder) = try Self.heldByAGoneRun(seconds: "20")
        defer { holder.terminate(); holder.waitUntilExit() }
        let started = Date()
        let (output, _) = try await host.run("lvsctl_lock -x 0 test\necho taken > \"$S/taken\"\n")
        #expect(output.locked == "up started by a killed run" && host.text("state/taken") == "", "\(output)")
        #expect(Date().timeIntervalSince(started) < 10)
    }

    /// A shell whose ancestors include an sshd session is not an orphan, whether OpenSSH names
    /// that process `sshd` (before 9.8) or `sshd-session` (9.8 on); without one, it is.
    @Test(arguments: ["sshd", "sshd-session", "bash-login"])
    func aShellUnderASessionIsNotAnOrphan(_ session: String) async throws {
        let host = try IPVSBatchTests.Host()
        let program = host.folder + "/" + session
        try FileManager.default.copyItem(atPath: URL(fileURLWithPath: "/bin/sh").resolvingSymlinksInPath().path, toPath: program)
        chmod(program, 0o755)
        try host.write(host.folder + "/ask.sh", "lvsctl_orphan $$ && echo orphan || echo live\n")
        // The prologue's functions, then the question, in a shell started by `session` (`; :` so
        // that it does not exec the shell in its own place).
        let prologue = host.folder + "/prologue.sh"
        try host.write(prologue, HostScript.prologueOwn.replacingOccurrences(of: "S=\(HostScript.stateDirectory)", with: "S=\(host.folder)/state"))
        let result = try await LocalProgram.run(program, ["-c", "/bin/sh -c '. \(prologue); . \(host.folder)/ask.sh'; :"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(result.output == (session.hasPrefix("sshd") ? "live\n" : "orphan\n"), "\(result.output)")
    }

    /// A scratch host whose lock names a run whose process is gone (PID 999999999), and a stand-in
    /// for what still holds the lock, for `seconds`.
    static func heldByAGoneRun(seconds: String) throws -> (IPVSBatchTests.Host, Process) {
        let host = try IPVSBatchTests.Host()
        let lock = host.folder + "/state/lock"
        try "up started by a killed run\n999999999\n".write(toFile: lock, atomically: true, encoding: .utf8)
        return (host, try holding(lock, seconds: seconds))
    }

    /// A shell holding `lock` for `seconds`, once it holds it.
    static func holding(_ lock: String, seconds: String) throws -> Process {
        // One process from the lock to the end (a terminate ends the hold, leaving no child).
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", "exec 9>>'\(lock)'; flock -x 9; : > '\(lock).held'; exec sleep \(seconds)"]
        try holder.run()
        for _ in 0..<500 where !FileManager.default.fileExists(atPath: lock + ".held") { usleep(10_000) }
        return holder
    }
}
