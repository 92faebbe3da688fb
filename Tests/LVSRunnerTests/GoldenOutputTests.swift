import Foundation
@testable import LVSKit
import LVSLab
import Testing

/// Everything lvsctl writes for a host, byte for byte, for every shipped inventory and the lab's:
/// each host's script, the ipvsadm rules, each director's keepalived.conf, and the parts `up`,
/// `plan` and `down` send a host with nothing recorded. A refactor of the stages between the
/// inventory and the shell must leave these unchanged; a deliberate change records them again
/// (`LVSCTL_RECORD_GOLDEN=1 swift test --filter GoldenOutputTests`) and the diff shows in review.
struct GoldenOutputTests {
    static let folder = "\(repositoryRoot)/Tests/LVSRunnerTests/Golden"

    /// The lab's inventories as the VM tests write them (a fixed folder, so paths are stable).
    static let lab = VMLab(folder: "/var/tmp/lvsctl-golden", realServers: 3, portBase: 2300)

    static let kinds = VMLabEndToEndTests.serviceKinds

    static var inventories: [(name: String, text: String)] {
        let shipped = ["nat", "dr", "tun", "example", "ha-dr"].map { name in
            ("\(name).yml", (try? String(contentsOfFile: "\(repositoryRoot)/inventories/\(name).yml", encoding: .utf8)) ?? "")
        }
        return shipped + [
            ("lab-nat.yml", lab.inventory(mode: "nat", metrics: true)),
            ("lab-dr.yml", lab.inventory(mode: "dr", metrics: true)),
            ("lab-tun.yml", lab.inventory(mode: "tun", metrics: true)),
            ("lab-ha-dr.yml", lab.haInventory(interval: 1)),
            ("lab-ha-nat.yml", lab.haInventory(mode: "nat", sorry: false)),
            ("lab-ecmp.yml", lab.ecmpInventory(moreDirectors: ["director2", "director3"])),
            ("lab-kinds-dr.yml", lab.inventory(mode: "dr", moreServices: kinds)),
            ("lab-kinds-nat.yml", lab.inventory(mode: "nat", moreServices: kinds, dip6: true)),
            ("lab-wlc-thresholds.yml", lab.inventory(mode: "tun", scheduler: "wlc", weights: ["rs1": 1, "rs2": 5, "rs3": 2],
                                                     settings: ["persistence: 30", "netmask: 255.255.255.0"],
                                                     serverSettings: ["rs1": "upper: 2, lower: 1"])),
        ]
    }

    static func output(_ text: String, file: String) throws -> String {
        let inventory = try InventoryParser.parse(text, file: file).get()
        let cluster = try DesiredStateBuilder(library: PlaybookLibrary.load(from: repositoryRoot)).hosts(inventory)
        var out = "### render --format ipvsadm\n" + ScriptRenderer.ipvsadmSave(DesiredCluster(inventory))
        for director in inventory.directors where inventory.usesKeepalived {
            out += "### render --format keepalived --host \(director.host)\n" + KeepalivedConfig.file(DesiredCluster(inventory), director: director) + "\n"
        }
        for state in cluster {
            let name = state.host.name
            out += "### render --host \(name)\n" + ScriptRenderer.script(state, inventory: inventory)
            out += "### up \(name) (nothing recorded)\n" + UpScript.firstParts(state, cluster: cluster)
            out += "### plan \(name)\n" + HostScript.opening(.read, owner: "plan", lockWait: 0, readIPVS: state.roles.contains(.director))
                + HostScript.check(state.resources)
            let director = state.roles.contains(.director)
            out += "### down \(name)\n" + HostScript.opening(.change, owner: "down", lockWait: 0, readIPVS: director)
            if director {
                // As a first up left it: a record for each service, each in the table.
                let records = state.ipvsServices.enumerated().map { HostOutput.Record(key: $1.key.resourceID.recordKey, order: $0 + 1, id: $1.key.resourceID.description) }
                out += HostScript.undoIPVS(records: records, live: IPVSTable(services: state.ipvsServices))
            }
            out += HostScript.undoAll(forgetWhenEmpty: !director)
        }
        // Every conversation opens with the same helpers: recorded once, in their own file.
        return out.replacingOccurrences(of: HostScript.prologue, with: "<<prologue>>\n")
    }

    @Test(arguments: inventories.map(\.name) + ["prologue"])
    func byteIdentical(_ name: String) throws {
        let produced = try name == "prologue" ? HostScript.prologue
            : Self.output(try #require(Self.inventories.first { $0.name == name }?.text), file: name)
        let path = "\(Self.folder)/\(name).txt"
        if ProcessInfo.processInfo.environment["LVSCTL_RECORD_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(atPath: Self.folder, withIntermediateDirectories: true)
            try produced.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        let recorded = try String(contentsOfFile: path, encoding: .utf8)
        #expect(produced == recorded, "\(name) differs from \(path):\n\(LabSnapshot.difference(recorded, produced))")
    }
}
