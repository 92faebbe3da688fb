import Foundation
import LVSRunner
import Testing
@testable import LVSKit

/// The shell lvsctl sends is valid POSIX sh, for every host of every shipped inventory.
struct HostScriptTests {
    static func syntaxErrors(_ script: String) async throws -> String {
        let file = NSTemporaryDirectory() + "lvsctl-sh-\(UUID().uuidString).sh"
        try script.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        // dash on Debian: the strictest of the usual ones
        return try await LocalProgram.run("/bin/sh", ["-n", file]).errors
    }

    @Test(arguments: ["nat.yml", "dr.yml", "tun.yml", "example.yml"])
    func everyPartParses(name: String) async throws {
        let cluster = try render(loadInventory(name))
        for state in cluster {
            let records = state.resources.enumerated().map { HostOutput.Record(key: $1.id.recordKey, order: $0, id: $1.id.description) }
            let scripts = [
                UpScript.firstParts(state, cluster: cluster),
                HostScript.part(1, HostScript.opening(.read, owner: "plan 'quoted'", lockWait: 5, readIPVS: true) + HostScript.check(state.resources)),
                HostScript.part(1, HostScript.opening(.change, owner: "down", lockWait: 0, readIPVS: false) + HostScript.undoAll(forgetWhenEmpty: true)),
                HostScript.part(3, HostScript.undo(records) + HostScript.readConnections(state.ipvsServices.map(\.key))),
                HostScript.part(4, HostScript.undoIPVS(records: records, live: IPVSTable(services: state.ipvsServices))),
            ]
            for script in scripts {
                #expect(try await Self.syntaxErrors(script) == "", "\(name) \(state.host.name)")
            }
        }
    }

    /// A part cut short (lvsctl killed while sending it) runs nothing: its function never closes,
    /// or is never called.
    @Test func truncatedPartRunsNothing() async throws {
        let part = HostScript.part(2, "touch \"$MARK\"")
        for cut in [part.count / 2, part.count - 3, part.count - "lvsctl_part_2\n".count] {
            let marker = NSTemporaryDirectory() + "lvsctl-cut-\(UUID().uuidString)"
            _ = try await LocalProgram.run("/bin/sh", ["-c", String(part.prefix(cut))], environment: ["MARK": marker])
            #expect(!FileManager.default.fileExists(atPath: marker), "cut at \(cut) of \(part.count) ran the part")
            try? FileManager.default.removeItem(atPath: marker)
        }
    }
}
