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
        abstract: "Print each host's desired state as a script a person could run by hand (no SSH).",
        discussion: """
        Without --host, every host's script in turn: the director first, then the real servers. \
        Each resource is its check and, when the check fails, its apply (the same shell `up` \
        uses), and each virtual service is the `ipvsadm -A/-a` that create it from nothing. It is \
        not what `up` sends: `up` also records each change on its host so `down` can undo it, \
        edits live IPVS services in place, drains leaving real servers, and undoes what the \
        inventory no longer asks for (`lvsctl plan` shows that diff; `plan --show-script` the shell). \
        --format ipvsadm prints the director's rules as `ipvsadm-save -n` would (for ipvsadm-restore). \
        --format keepalived prints each director's keepalived.conf (health checks, sorry servers, a \
        director pair with VRRP and connection sync), the file `up` installs when the inventory asks \
        for any of them; with --host, only that director's.
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case script, ipvsadm, keepalived }

    @OptionGroup var inventory: InventoryOption
    @OptionGroup var data: DataOption
    @Option(help: "Only this host.") var host: String?
    @Option(help: "script, ipvsadm or keepalived.") var format: Format = .script

    func run() throws {
        let inventory = try inventory.load()
        let desired = DesiredCluster(inventory)
        if format == .ipvsadm {
            print(ScriptRenderer.ipvsadmSave(desired), terminator: "")
            return
        }
        if format == .keepalived {
            if let host, inventory.director(named: host) == nil {
                throw ValidationError("host '\(host)' is not a director (directors: \(inventory.directors.map(\.host).joined(separator: ", ")))")
            }
            let chosen = inventory.directors.filter { host == nil || $0.host == host }
            print(chosen.map { director in
                (host == nil ? "# --- \(director.host): /etc/keepalived/keepalived.conf\n" : "")
                    + KeepalivedConfig.file(desired, director: director) + "\n"
            }.joined(separator: "\n"), terminator: "")
            return
        }
        let states = try DesiredStateBuilder(library: data.library()).hosts(desired)
        if let host, !states.contains(where: { $0.host.name == host }) {
            throw ValidationError("host '\(host)' has no role in this cluster (hosts with a role: \(states.map(\.host.name).joined(separator: ", ")))")
        }
        let chosen = states.filter { host == nil || $0.host.name == host }
        print(chosen.map { ScriptRenderer.script($0, inventory: inventory) }.joined(separator: "\n"), terminator: "")
    }
}
