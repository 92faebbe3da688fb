import Foundation
import LVSRunner

/// Runs a script in `/bin/sh` (dash on Debian, as on the lab's hosts): its exit status and
/// standard output; its errors go to the test's. Tests give programs as shell functions defined
/// before the script. Awaited, not waited for: several template scripts sleep in wait loops, and a
/// blocked wait would hold one of the two pool threads every other test needs (see LocalProgram).
func runShell(_ script: String) async throws -> (status: Int32, output: String) {
    let result = try await LocalProgram.run("/bin/sh", ["-c", script])
    if !result.errors.isEmpty { FileHandle.standardError.write(Data(result.errors.utf8)) }
    return (result.status, result.output)
}
