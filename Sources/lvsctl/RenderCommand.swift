import ArgumentParser
import Foundation
import LVSKit

/// Where the playbooks and templates are; shared by every verb that renders steps.
struct DataOption: ParsableArguments {
    @Option(name: .customLong("data"), help: "Folder holding lvsctl's playbooks/ and templates/ (default: found beside the program, or LVSCTL_DATA).")
    var directory: String?

    func library() throws -> PlaybookLibrary {
        let root = try PlaybookLibrary.locate(explicit: directory, executable: CommandLine.arguments[0],
                                              sourceRoot: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                                                  .deletingLastPathComponent().deletingLastPathComponent().path)
        return try PlaybookLibrary.load(from: root)
    }
}

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the shell each host would run (no SSH).",
        discussion: """
        Without --host, every host's script in turn: the director first, then the real servers. \
        Each step is its check and, when the check fails, its apply, exactly as `up` runs them. \
        --format ipvsadm prints the director's rules as `ipvsadm-save -n` would (for ipvsadm-restore).
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case script, ipvsadm }

    @OptionGroup var inventory: InventoryOption
    @OptionGroup var data: DataOption
    @Option(help: "Only this host.") var host: String?
    @Option(help: "script or ipvsadm.") var format: Format = .script

    func run() throws {
        let inventory = try inventory.load()
        if format == .ipvsadm {
            print(ScriptRenderer.ipvsadmSave(inventory), terminator: "")
            return
        }
        let plans = try Renderer(library: data.library()).render(inventory)
        if let host, !plans.contains(where: { $0.host.name == host }) {
            throw ValidationError("host '\(host)' has no role in this cluster (hosts with steps: \(plans.map(\.host.name).joined(separator: ", ")))")
        }
        let chosen = plans.filter { host == nil || $0.host.name == host }
        print(chosen.map { ScriptRenderer.script($0, inventory: inventory) }.joined(separator: "\n"), terminator: "")
    }
}
