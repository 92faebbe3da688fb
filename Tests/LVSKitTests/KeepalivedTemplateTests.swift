import Foundation
import Testing
@testable import LVSKit

/// templates/keepalived.yml on a systemd host, run in a real shell: `systemctl` a function that
/// answers from ACTIVE and ENABLED and logs what it is told, the systemd folder, the
/// configuration and the run folder under a temporary one (the lab's hosts have no systemd).
struct KeepalivedTemplateTests {
    let folder = NSTemporaryDirectory() + "lvsctl-keepalived-\(UUID().uuidString)"

    func script(_ part: (StepTemplate) -> String?, active: Bool, enabled: Bool, prior: String = "") async throws -> (status: Int32, output: String) {
        let template = try #require(try PlaybookLibrary.load(from: repositoryRoot).templates["keepalived"])
        var compiled = CompiledTemplates()
        let body = try compiled.shell(try #require(part(template)), ["path": "\(folder)/keepalived.conf", "content": "global_defs {\n}",
                                                                             "rundir": "\(folder)/run"], step: "keepalived")
        return try await FakeSystemdHost(folder: folder).run(body, active: active, enabled: enabled, prior: prior, more: "keepalived() { return 0; }")
    }

    @Test func captureSaysWhetherTheUnitRunsAndIsEnabled() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try await script({ $0.capture }, active: false, enabled: false).output == "stopped disabled|")
        #expect(try await script({ $0.capture }, active: true, enabled: true).output == "systemd enabled|")
    }

    @Test func applyStartsAndEnables() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let applied = try await script({ $0.apply }, active: false, enabled: false)
        #expect(applied == (0, "systemctl start keepalived\nsystemctl enable -q keepalived\n"))
        #expect(try await script({ $0.apply }, active: true, enabled: true) == (0, "systemctl reload keepalived\n"))
    }

    @Test func checkWantsItEnabled() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try await script({ $0.apply }, active: true, enabled: true)
        #expect(try await script({ $0.check }, active: true, enabled: true).status == 0)
        #expect(try await script({ $0.check }, active: true, enabled: false).status != 0)
    }

    /// down disables only a unit that was disabled before; a record written before lvsctl
    /// enabled units (`systemd|`) leaves it as it is.
    @Test(arguments: [
        ("stopped disabled|", "systemctl disable -q keepalived\nsystemctl stop keepalived\n"),
        ("stopped enabled|", "systemctl stop keepalived\n"),
        ("systemd disabled|", "systemctl disable -q keepalived\nsystemctl reload keepalived\n"),
        ("systemd|", "systemctl reload keepalived\n"),
    ])
    func undoPutsTheUnitBack(prior: String, expected: String) async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try await script({ $0.undo }, active: true, enabled: true, prior: prior) == (0, expected))
    }
}
