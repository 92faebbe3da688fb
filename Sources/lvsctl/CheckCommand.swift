import ArgumentParser
import Foundation
import LVSKit

/// Reads and validates an inventory; shared by every verb that takes `-i`.
struct InventoryOption: ParsableArguments {
    @Option(name: [.customShort("i"), .customLong("inventory")], help: "The inventory file (YAML).")
    var path: String

    func load() throws -> Inventory {
        let text: String
        switch InventoryFile.read(path) {
        case let .success(read): text = read
        case let .failure(errors):
            FileHandle.standardError.write(Data((errors.description + "\n").utf8))
            throw ExitCode(65)   // EX_DATAERR
        }
        switch InventoryParser.parse(text, file: path) {
        case let .success(inventory): return inventory
        case let .failure(errors):
            FileHandle.standardError.write(Data((errors.description + "\n").utf8))
            throw ExitCode(65)   // EX_DATAERR
        }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate an inventory and summarise the cluster (no SSH).",
        discussion: "Every problem is printed as file:line:column with a sentence saying how to fix it; exit status 65 when there is any.")

    @OptionGroup var inventory: InventoryOption

    func run() throws {
        let inventory = try inventory.load()
        print(ClusterSummary.text(inventory))
    }
}
