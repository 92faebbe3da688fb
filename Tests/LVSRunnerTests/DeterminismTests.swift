import Foundation
import Testing

/// What lvsctl renders is the same in every process: Swift seeds its hashing per process, so a
/// dictionary or set iterated on the way would show here, and not within one process.
struct DeterminismTests {
    @Test(arguments: ["nat.yml", "dr.yml", "tun.yml", "example.yml"])
    func sameOutputInTwoProcesses(inventory: String) async throws {
        let program = try lvsctlBinary()
        let file = "\(repositoryRoot)/inventories/\(inventory)"
        for arguments in [["render", "-i", file], ["render", "-i", file, "--format", "ipvsadm"], ["plan", "-i", file, "--show-script"]] {
            let first = try await runProgram(program, arguments + ["--data", repositoryRoot])
            let second = try await runProgram(program, arguments + ["--data", repositoryRoot])
            #expect(first.status == 0, "\(arguments): \(first.output)")
            #expect(!first.output.isEmpty && first.output == second.output, "\(arguments) printed differently in two processes")
        }
    }
}
