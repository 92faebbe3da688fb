import Foundation
import Testing
@testable import LVSKit

/// The host's lock as the shell takes it, on this machine's /bin/sh and flock.
struct LockTests {
    /// The lock names a holder that has just ended (its process is gone; a `flock` standing in
    /// for what still closes the lock lets go 0.5 s later): the run waits that moment and takes
    /// it, where it used to answer "locked" (a kill drill's `down` was refused so, exit 75).
    @Test func aHolderThatJustEndedIsWaitedForNotRefused() async throws {
        let host = try IPVSBatchTests.Host()
        let lock = host.folder + "/state/lock"
        try "up started by a killed run\n999999999\n".write(toFile: lock, atomically: true, encoding: .utf8)
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = ["-x", lock, "sleep", "0.5"]
        try holder.run()
        defer { holder.terminate(); holder.waitUntilExit() }
        // The stand-in holds the lock before the run tries.
        for _ in 0..<50 where !FileManager.default.fileExists(atPath: "/proc/\(holder.processIdentifier)/fd") { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(100))
        let (output, _) = try await host.run("lvsctl_lock -x 0 test\necho taken > \"$S/taken\"\n")
        #expect(output.locked == nil && host.text("state/taken") == "taken\n", "\(output)")
    }
}
