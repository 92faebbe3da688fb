import Foundation
import Testing
@testable import LVSKit

/// A part's record folders are made by one `mkdir` at its first change, what a killed run left
/// in `tmp/` is removed first, and the folders no change used go when the part's steps are done.
struct RecordFolderTests {
    /// A resource that is a file flag in the state folder: made by apply, removed by undo.
    static func flag(_ index: Int) -> Resource {
        Resource(name: "flag \(index)", role: .realServer, template: "flag",
                 value: .custom(template: "flag", identity: "\(index)", parameters: [:]),
                 shell: StepShell(check: "test -f \"$S/flag-\(index)\"", capture: "echo absent",
                                  apply: ": > \"$S/flag-\(index)\"", undo: "rm -f \"$S/flag-\(index)\"",
                                  requirement: false, inlineCheck: false))
    }

    @Test func oneMkdirForAPartsRecordsLeftoversRemovedUnusedGone() async throws {
        let host = try IPVSBatchTests.Host()
        let resources = (0..<4).map(Self.flag)
        let state = host.folder + "/state"
        // Flag 1 is there already (no change, no record); a killed run left flag 2's folder half made.
        try "".write(toFile: state + "/flag-1", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: state + "/tmp/" + resources[2].id.recordKey, withIntermediateDirectories: true)
        try "stale\n".write(toFile: state + "/tmp/" + resources[2].id.recordKey + "/undo", atomically: true, encoding: .utf8)

        let (up, processes) = try await host.run(HostScript.apply(resources))
        #expect(up.steps.mapValues { $0.status } == [0: .changed, 1: .ok, 2: .changed, 3: .changed], "\(up.steps)")
        // mktemp/rm: the conversation's own; one rm for the leftover, one mkdir for the three
        // folders and r/, a mv each, one rmdir for flag 1's unused folder.
        #expect(processes == ["mktemp", "rm", "mkdir", "mv", "mv", "mv", "rmdir", "rm"], "\(processes)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: state + "/tmp").isEmpty)
        let (listed, _) = try await host.run("lvsctl_records\n")
        #expect(Set(listed.records.map(\.id)) == Set([0, 2, 3].map { resources[$0].id.description }))
        #expect(host.text("state/r/\(resources[2].id.recordKey)/undo") == "rm -f \"$S/flag-2\"\n")

        // Nothing to change: not a folder made.
        let (again, none) = try await host.run(HostScript.apply(resources))
        #expect(again.steps.values.allSatisfy { $0.status == .ok } && none == ["mktemp", "rm"], "\(none)")
    }

    /// The cluster's hosts are written when they differ from the file's (by the shell's printf,
    /// then one `mv`), and only compared when they do not.
    @Test func clusterFileWrittenOnlyWhenItChanges() async throws {
        let host = try IPVSBatchTests.Host()
        let lines = [#"{"address":"10.0.0.1","name":"director"}"#, #"{"address":"10.0.0.11","name":"rs'1"}"#]
        let (_, first) = try await host.run(HostScript.writeCluster(lines))
        #expect(first == ["mktemp", "mv", "rm"] && host.text("state/cluster") == lines.joined(separator: "\n") + "\n", "\(first)")
        let (_, same) = try await host.run(HostScript.writeCluster(lines))
        #expect(same == ["mktemp", "cmp", "rm"], "\(same)")
        let (_, changed) = try await host.run(HostScript.writeCluster(Array(lines.prefix(1))))
        #expect(changed == ["mktemp", "cmp", "mv", "rm"] && host.text("state/cluster") == lines[0] + "\n", "\(changed)")
    }
}
