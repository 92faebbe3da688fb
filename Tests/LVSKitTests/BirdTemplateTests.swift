import Foundation
import Testing
@testable import LVSKit

/// templates/bird.yml on a systemd host, run in a real shell: lvsctl's own unit,
/// lvsctl-bird.service, written, started (not enabled), reloaded, and removed by down; bird's
/// `-p` a function that accepts, a started unit's socket and pid file made by the fake (the pid
/// this test process's: alive while it runs).
struct BirdTemplateTests {
    let folder = NSTemporaryDirectory() + "lvsctl-bird-\(UUID().uuidString)"
    var unit: String { "\(folder)/etc/lvsctl-bird.service" }

    func script(_ part: (StepTemplate) -> String?, active: Bool) async throws -> (status: Int32, output: String) {
        let template = try #require(try PlaybookLibrary.load(from: repositoryRoot).templates["bird"])
        var compiled = CompiledTemplates()
        let body = try compiled.shell(try #require(part(template)), ["path": "\(folder)/lvsctl.conf", "content": "router id 10.0.0.1;",
                                                                             "rundir": "\(folder)/run", "gates": ""], step: "bird")
        let started = #"python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('\#(folder)/run/bird.ctl')"; echo \#(getpid()) > \#(folder)/run/bird.pid"#
        return try await FakeSystemdHost(folder: folder).run(body, active: active, enabled: false, more: "bird() { return 0; }", onStart: started)
    }

    @Test func applyWritesStartsAndThenReloadsTheUnit() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try await script({ $0.check }, active: false).status != 0)
        #expect(try await script({ $0.apply }, active: false) == (0, "systemctl daemon-reload\nsystemctl start lvsctl-bird\n"))
        #expect(try String(contentsOfFile: unit, encoding: .utf8) == """
            [Unit]
            Description=bird announcing the VIPs of an lvsctl active-active director
            After=network.target

            [Service]
            ExecStart=/usr/sbin/bird -f -c \(folder)/lvsctl.conf -s \(folder)/run/bird.ctl -P \(folder)/run/bird.pid
            ExecReload=/usr/sbin/birdc -s \(folder)/run/bird.ctl configure

            """)
        #expect(try await script({ $0.check }, active: true).status == 0)
        #expect(try await script({ $0.check }, active: false).status != 0)
        // Running with the same unit: bird reads its file again, no daemon-reload.
        #expect(try await script({ $0.apply }, active: true) == (0, "systemctl reload lvsctl-bird\n"))
    }

    @Test func downStopsAndRemovesTheUnit() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try await script({ $0.apply }, active: false)
        #expect(try await script({ $0.undo }, active: true) == (0, "systemctl stop lvsctl-bird\nsystemctl daemon-reload\n"))
        #expect(!FileManager.default.fileExists(atPath: unit))
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/lvsctl.conf") && !FileManager.default.fileExists(atPath: "\(folder)/run"))
    }
}
