import Foundation
import LVSKit
import LVSLab
import LVSRunner
import Testing

/// On the lab VM, director included: two runs at once, and runs killed at random moments.
extension VMLabEndToEndTests {
    /// Two `up` at once on one cluster: one takes the director's lock and provisions, the other
    /// is refused (exit 75) and changes nothing; `down` restores.
    @Test func twoRunsAtOnceOneIsRefused() async throws {
        let lab = try labVM()
        let before = try await lab.snapshots(of: lab.directorAndRealServers)
        let cluster = try lab.cluster(lab.inventory(mode: "dr"), name: "e2e-twice", library: Self.library.get())
        let program = try lvsctlBinary()
        let arguments = ["up", "-i", cluster.inventory.file, "--data", repositoryRoot]
        async let first = runProgram(program, arguments)
        try await Task.sleep(for: .milliseconds(300))
        async let second = runProgram(program, arguments)
        let results = try await [first, second]
        #expect(results.map(\.status).sorted() == [0, 75], "\(results.map(\.output))")
        let refused = try #require(results.first { $0.status == 75 })
        #expect(refused.output.contains("director: LOCKED: host director is being changed by another lvsctl run (up started"), "\(refused.output)")
        #expect(await cluster.verify().passed)
        let down = await cluster.run(.down)
        #expect(down.exitCode == 0, "\(down.text)")
        #expect(try await lab.differences(from: before).isEmpty)
    }

    /// lvsctl killed (SIGKILL) at a random moment of `up` or of `down`, then `down`: exit 0 and
    /// every host equal to its snapshot, every time.
    @Test(arguments: [Verb.up, .down])
    func killedAtRandomThenDownRestores(_ killed: Verb) async throws {
        let lab = try labVM()
        let before = try await lab.snapshots(of: lab.directorAndRealServers)
        let cluster = try lab.cluster(lab.inventory(mode: "dr"), name: "e2e-kill-\(killed.rawValue)", library: Self.library.get())
        let program = try lvsctlBinary()
        let data = ["--data", repositoryRoot]
        var delays: [Int] = []
        for trial in 1...Self.killTrials {
            if killed == .down {
                let up = await cluster.run(.up)
                #expect(up.exitCode == 0, "trial \(trial): \(up.text)")
            }
            // Anywhere from before the first host is reached to the end of the run.
            let delay = Int.random(in: 100...(killed == .up ? 9000 : 5000))
            delays.append(delay)
            try await killProgram(program, [killed.rawValue, "-i", cluster.inventory.file] + data, after: delay)
            let down = try await runProgram(program, ["down", "-i", cluster.inventory.file] + data)
            #expect(down.status == 0, "trial \(trial), \(killed.rawValue) killed after \(delay) ms: down exited \(down.status):\n\(down.output)")
            let differences = try await lab.differences(from: before)
            #expect(differences.isEmpty, "trial \(trial), \(killed.rawValue) killed after \(delay) ms: \(differences)")
        }
        print("\(killed.rawValue) killed on the lab VM after (ms): \(delays)")
    }

    /// Kills per verb on the VM: a trial costs 40–50 s of emulated provisioning and restoring,
    /// and CI's whole run must stay near 12 minutes. The moment is random on every run; the local
    /// lab kills ten times per verb (real servers), `LVSCTL_KILL_TRIALS` asks for more here.
    static let killTrials = Int(ProcessInfo.processInfo.environment["LVSCTL_KILL_TRIALS"] ?? "") ?? 1
}
