import Foundation
import Testing
@testable import LVSKit

/// Inventories as people write them: shared defaults, anchors kept aside, files from other editors.
struct InventoryInputTests {
    static let text = """
    x-defaults:
      login: &login { user: admin, become: sudo }
      heavy: &heavy { weight: 3, upper: 100 }
    hosts:
      director: 192.168.229.133
      rs1: { <<: *login, address: 192.168.229.132 }
      rs2: { <<: *login, address: 192.168.229.134, user: ops }
    cluster:
      mode: dr
      director: { host: director, interface: eth0 }
      services:
        - vip: 192.168.229.111
          scheduler: wrr
          real_servers:
            - { <<: *heavy, host: rs1 }
            - { <<: *heavy, host: rs2, weight: 5 }

    """

    @Test func mergeKeysAndExtensionKeys() throws {
        let inventory = try InventoryParser.parse(Self.text, file: "merge.yml").get()
        #expect(inventory.host(named: "rs1")?.user == "admin" && inventory.host(named: "rs1")?.become == .sudo)
        #expect(inventory.host(named: "rs2")?.user == "ops", "a key of its own wins over a merged one")
        #expect(inventory.services[0].realServers.map(\.weight) == [3, 5])
        #expect(inventory.services[0].realServers.map(\.upperThreshold) == [100, 100])
    }

    @Test func mergedValuesAreStillValidated() {
        let text = Self.text.replacingOccurrences(of: "weight: 3, upper: 100", with: "weight: 70000")
        guard case let .failure(errors) = InventoryParser.parse(text, file: "merge.yml") else { Issue.record("accepted weight 70000"); return }
        #expect(errors.diagnostics.map(\.description) == [
            "merge.yml:3:27: error: weight 70000 is out of range: it must be a whole number from 0 to 65535",
        ])
    }

    /// Nine levels of ten aliases each: 10⁹ values once expanded. Judged in well under a second.
    @Test func aliasBombIsRefusedQuickly() {
        var text = "x-0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 { text += "x-\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n" }
        text += "hosts: { a: 10.0.0.1 }\ncluster: { mode: dr }\n"
        let clock = ContinuousClock()
        let started = clock.now
        let result = InventoryParser.parse(text, file: "bomb.yml")
        #expect(clock.now - started < .seconds(1))
        guard case let .failure(errors) = result else { Issue.record("accepted an alias bomb"); return }
        #expect(errors.diagnostics.map(\.problem) == [.tooManyValues(InventoryParser.maximumValues(textBytes: text.utf8.count))])
    }

    /// A large site written out in full is not a bomb: 10 000 services of four real servers each
    /// (about 250 000 values) are accepted.
    @Test func largeInventoryWrittenOutIsAccepted() throws {
        var text = "hosts: { lb: 10.0.0.1, rs1: 10.0.0.11, rs2: 10.0.0.12, rs3: 10.0.0.13, rs4: 10.0.0.14 }\n"
        text += "cluster:\n  mode: dr\n  director: { host: lb, dip: 10.0.0.1/24 }\n  services:\n"
        for n in 0..<10_000 {
            text += "    - { vip: 192.168.\(n / 250).\(n % 250 + 1), port: \(80 + n / 62_500), scheduler: rr, "
                + "real_servers: [{ host: rs1, rip: 10.0.0.11 }, { host: rs2, rip: 10.0.0.12 }, { host: rs3, rip: 10.0.0.13 }, { host: rs4, rip: 10.0.0.14 }] }\n"
        }
        let inventory = try InventoryParser.parse(text, file: "large.yml").get()
        #expect(inventory.services.count == 10_000)
    }

    @Test(arguments: [
        ([UInt8]("hosts:\n  rs1: caf".utf8) + [0xE9] + [UInt8]("\n".utf8),
         "f.yml:2:11: error: cannot read the inventory: it is not UTF-8 text: byte 0xE9 at line 2, byte 11 does not decode (a Latin-1 or Windows-1252 character?); save the file as UTF-8"),
        ([0xFF, 0xFE, 0x68, 0x00, 0x6F, 0x00],
         "f.yml:1:1: error: cannot read the inventory: it is UTF-16 text (as some Windows editors save): save it as UTF-8"),
    ])
    func textThatIsNotUTF8(bytes: [UInt8], message: String) throws {
        let folder = NSTemporaryDirectory() + "lvsctl-input-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/f.yml"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        guard case let .failure(errors) = InventoryFile.read(path) else { Issue.record("read as text"); return }
        #expect(errors.description == message.replacingOccurrences(of: "f.yml", with: path))
    }

    @Test func missingFileAndFolderAreSaidSo() {
        guard case let .failure(missing) = InventoryFile.read("/nonexistent/inv.yml") else { Issue.record("read a missing file"); return }
        #expect(missing.description == "/nonexistent/inv.yml:1:1: error: cannot read the inventory: there is no such file")
        guard case let .failure(folder) = InventoryFile.read("/tmp") else { Issue.record("read a folder"); return }
        #expect(folder.description == "/tmp:1:1: error: cannot read the inventory: it is a folder, not a file")
    }

    @Test func byteOrderMarkIsDropped() throws {
        #expect(try InventoryFile.decode([0xEF, 0xBB, 0xBF] + Array("hosts: {}".utf8)).get() == "hosts: {}")
    }
}
