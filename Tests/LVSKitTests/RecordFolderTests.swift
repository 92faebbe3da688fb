import Foundation
import Testing
@testable import LVSKit

/// A part's record folders are made in place by one `mkdir` at its first change, what a killed
/// run left half made (listed in `making`, no `order`) is removed by the next changing run's
/// opening, and the folders no change used go when the part's steps are done.
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
        let resources = (0..<5).map(Self.flag)
        let keys = resources.map(\.id.recordKey)
        let state = host.folder + "/state", records = state + "/r/"
        // Flag 1 is there already (no change, no record). A killed run left flag 2's record half
        // made (an undo, no order) and flag 3's folder premade and empty; flag 4's record, also in
        // its list, is whole (its order written), and its flag made.
        for file in ["flag-1", "flag-4"] { try "".write(toFile: state + "/" + file, atomically: true, encoding: .utf8) }
        for key in keys[2...4] { try FileManager.default.createDirectory(atPath: records + key, withIntermediateDirectories: true) }
        try "stale\n".write(toFile: records + keys[2] + "/undo", atomically: true, encoding: .utf8)
        for (file, text) in [("undo", "rm -f \"$S/flag-4\"\n"), ("id", resources[4].id.description + "\n"), ("order", "1\n")] {
            try text.write(toFile: records + keys[4] + "/" + file, atomically: true, encoding: .utf8)
        }
        try "1\n".write(toFile: state + "/seq", atomically: true, encoding: .utf8)
        try keys[2...4].map { $0 + "\n" }.joined().write(toFile: state + "/making", atomically: true, encoding: .utf8)

        // The opening after its prologue (the scratch host's run starts with that).
        let opening = HostScript.opening(.change, owner: "test", lockWait: 0, readIPVS: false).replacingOccurrences(of: HostScript.prologue, with: "")
        let (up, processes) = try await host.run(opening + HostScript.apply(resources))
        // The opening listed flag 4's record only: the half-made ones were gone before.
        #expect(up.records.map(\.id) == [resources[4].id.description], "\(up.records)")
        #expect(up.steps.mapValues { $0.status } == [0: .changed, 1: .ok, 2: .changed, 3: .changed, 4: .ok], "\(up.steps)")
        // mktemp/rm: the conversation's own; one rm for the leftovers, a grep listing the
        // records, one mkdir for the three folders needed and flag 1's, one rmdir for flag 1's
        // unused one. No rename: a record is whole once its order is written.
        #expect(processes == ["mktemp", "rm", "grep", "mkdir", "rmdir", "rm"], "\(processes)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: records).sorted() == [0, 2, 3, 4].map { keys[$0] }.sorted())
        #expect(host.text("state/making") == "")
        let (listed, _) = try await host.run("lvsctl_records\n")
        #expect(listed.records.sorted { $0.order < $1.order }.map(\.id) == [4, 0, 2, 3].map { resources[$0].id.description })
        #expect(host.text("state/r/\(keys[2])/undo") == "rm -f \"$S/flag-2\"\n")

        // Nothing to change: not a folder made, nothing removed.
        let (again, none) = try await host.run(opening + HostScript.apply(resources))
        #expect(again.steps.values.allSatisfy { $0.status == .ok } && none == ["mktemp", "grep", "rm"], "\(none)")
    }

    /// A record is listed only once whole: a folder with an id and an undo but no order (a run
    /// killed between the two) is not read as a record, by `plan` either (which removes nothing).
    @Test func aRecordWithoutOrderIsNotListed() async throws {
        let host = try IPVSBatchTests.Host()
        let key = Self.flag(0).id.recordKey, folder = host.folder + "/state/r/" + key
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for file in ["id", "undo"] { try "x\n".write(toFile: folder + "/" + file, atomically: true, encoding: .utf8) }
        let (listed, _) = try await host.run("lvsctl_records\n")
        #expect(listed.records.isEmpty, "\(listed.records)")
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
