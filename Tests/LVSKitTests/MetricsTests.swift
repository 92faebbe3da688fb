import Foundation
import Testing
@testable import LVSKit

/// Prometheus metrics (`cluster.metrics`): parsed and refused with a position, three director
/// resources (the package, lvsctl's textfile, the exporter), the textfile's exact text under
/// node exporter's own labels, and templates/node-exporter.yml run in a real shell.
struct MetricsTests {
    static func inventory(_ metrics: String, services: String? = nil) -> String {
        var text = InventoryValidationTests.base.replacingOccurrences(of: "  client: client\n", with: "  client: client\n  metrics: \(metrics)\n")
        if let services { text = text.components(separatedBy: "  services:\n")[0] + "  services:\n" + services }
        return text
    }

    static func director(_ text: String) throws -> [Resource] {
        let inventory = try InventoryParser.parse(text, file: "inv.yml").get()
        return try #require(try render(inventory).first { $0.host.name == "director" }).resources
    }

    @Test func threeResourcesOnTheDirector() throws {
        let resources = try Self.director(Self.inventory("true"))
        let ids = resources.map(\.id.description).filter { $0.contains("node-exporter") || $0.contains("lvsctl.prom") }
        #expect(ids == ["package prometheus-node-exporter", "file /var/lib/prometheus/node-exporter/lvsctl.prom", "node-exporter port 9100"])
        let exporter = try #require(resources.first { $0.id.kind == "node-exporter" })
        #expect(exporter.value == .nodeExporter(port: 9100))
        #expect(exporter.name == "node exporter answering on port 9100")
        #expect(try Self.director(Self.inventory("{ port: 9110 }")).contains { $0.value == .nodeExporter(port: 9110) })
    }

    @Test(arguments: ["false", "no"])
    func offMeansNothing(_ metrics: String) throws {
        #expect(try Self.director(Self.inventory(metrics)).allSatisfy { $0.id.kind != "node-exporter" && !$0.id.key.hasSuffix(".prom") })
        #expect(try Self.director(InventoryValidationTests.base).allSatisfy { $0.id.kind != "node-exporter" })
    }

    @Test(arguments: [
        ("{ port: 0 }", "10:20: metrics.port 0 is out of range: it must be a whole number from 1 to 65535"),
        ("{ ports: 9100 }", "10:14: unknown key 'ports': did you mean 'port'? allowed here: port"),
        ("maybe", "10:12: 'metrics' must be true or false"),
    ])
    func refusedWithAPosition(metrics: String, message: String) {
        #expect(InventoryValidationTests.problems(Self.inventory(metrics)) == [message])
    }

    /// Labels exactly as node exporter 1.5 printed them on the lab's kernel for the same table
    /// (a mark as /proc/net/ip_vs prints it, an IPv6 address compressed), so queries join.
    @Test func textfileUnderTheExportersLabels() throws {
        let services = """
                - { vip: 192.168.229.111, port: 80, scheduler: wrr, real_servers: [{ host: rs1, weight: 3 }, { host: rs2, weight: 0 }] }
                - { vip: "fd00::111", port: 53, protocol: udp, scheduler: sh, real_servers: [{ host: rs1, rip: "fd00::11" }] }
                - { vip: 192.168.229.111, fwmark: 255, ports: [8080], scheduler: rr, real_servers: [rs2] }

            """
        let file = try #require(try Self.director(Self.inventory("true", services: services)).first { $0.id.key.hasSuffix("lvsctl.prom") })
        guard case let .file(_, content, mode) = file.value else { Issue.record("not a file: \(file.value)"); return }
        #expect(mode == "644")
        let tcp = #"local_address="192.168.229.111",local_port="80",local_mark="",proto="TCP""#
        let udp = #"local_address="fd00::111",local_port="53",local_mark="",proto="UDP""#
        let mark = #"local_address="",local_port="0",local_mark="000000FF",proto="FWM""#
        #expect(content == """
            # HELP lvsctl_service_info A virtual service lvsctl keeps on this director (always 1; scheduler and forwarding in labels).
            # TYPE lvsctl_service_info gauge
            lvsctl_service_info{\(tcp),scheduler="wrr",forwarding="dr"} 1
            lvsctl_service_info{\(udp),scheduler="sh",forwarding="dr"} 1
            lvsctl_service_info{\(mark),scheduler="rr",forwarding="dr"} 1
            # HELP lvsctl_backend_desired_weight The weight the inventory gives a real server (node_ipvs_backend_weight is the live one).
            # TYPE lvsctl_backend_desired_weight gauge
            lvsctl_backend_desired_weight{\(tcp),remote_address="192.168.229.132",remote_port="80"} 3
            lvsctl_backend_desired_weight{\(tcp),remote_address="192.168.229.134",remote_port="80"} 0
            lvsctl_backend_desired_weight{\(udp),remote_address="fd00::11",remote_port="53"} 1
            lvsctl_backend_desired_weight{\(mark),remote_address="192.168.229.134",remote_port="0"} 1
            # HELP lvsctl_backend_draining 1 when the inventory drains a real server (weight 0): it takes no new connections.
            # TYPE lvsctl_backend_draining gauge
            lvsctl_backend_draining{\(tcp),remote_address="192.168.229.132",remote_port="80"} 0
            lvsctl_backend_draining{\(tcp),remote_address="192.168.229.134",remote_port="80"} 1
            lvsctl_backend_draining{\(udp),remote_address="fd00::11",remote_port="53"} 0
            lvsctl_backend_draining{\(mark),remote_address="192.168.229.134",remote_port="0"} 0
            """)
    }

    /// keepalived's notify script, run as keepalived runs it (umask 077, `INSTANCE name state
    /// priority`), its folder a temporary one.
    @Test func vrrpNotifyWritesTheStateForEveryone() async throws {
        let folder = NSTemporaryDirectory() + "lvsctl-vrrp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let script = MetricsTextfile.vrrpNotifyScript.replacingOccurrences(of: MetricsTextfile.directory, with: folder)
        func notify(_ arguments: String) async throws -> Int32 { try await runShell("umask 077; set -- \(arguments)\n" + script).status }
        let written = folder + "/lvsctl-vrrp.prom"
        #expect(try await notify("INSTANCE lvsctl MASTER 150") == 0)
        #expect(!FileManager.default.fileExists(atPath: written))   // no lvsctl.prom: metrics no longer wanted
        _ = FileManager.default.createFile(atPath: folder + "/lvsctl.prom", contents: Data())
        #expect(try await notify("GROUP pair MASTER") == 0)
        #expect(!FileManager.default.fileExists(atPath: written))
        #expect(try await notify("INSTANCE lvsctl BACKUP 100") == 0)
        #expect(try String(contentsOfFile: written, encoding: .utf8) == """
            # HELP lvsctl_vrrp_state 1 for the VRRP state the director is in (keepalived notify).
            # TYPE lvsctl_vrrp_state gauge
            lvsctl_vrrp_state{instance="lvsctl",state="MASTER"} 0
            lvsctl_vrrp_state{instance="lvsctl",state="BACKUP"} 1
            lvsctl_vrrp_state{instance="lvsctl",state="FAULT"} 0

            """)
        let mode = try FileManager.default.attributesOfItem(atPath: written)[.posixPermissions] as? Int
        #expect(mode == 0o644)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["lvsctl-vrrp.prom", "lvsctl.prom"])
    }
}

/// templates/node-exporter.yml in a real shell: on a systemd host (`systemctl` a function
/// answering from ACTIVE and ENABLED, the unit folders under a temporary one) and on a host
/// without (the exporter a script that logs what node exporter logs).
struct NodeExporterTemplateTests {
    let folder = NSTemporaryDirectory() + "lvsctl-node-exporter-\(UUID().uuidString)"

    func script(_ part: (StepTemplate) -> String?, systemd: Bool, active: Bool = false, enabled: Bool = false, prior: String = "",
                exporter: String = "echo level=info msg=\\\"Listening on\\\" address=:9110; exec sleep 5") async throws -> (status: Int32, output: String) {
        let template = try #require(try PlaybookLibrary.load(from: repositoryRoot).templates["node-exporter"])
        var compiled = CompiledTemplates()
        let body = try compiled.shell(try #require(part(template)), ["port": 9110, "textfiles": "\(folder)/textfiles", "rundir": "\(folder)/run"],
                                      step: "node-exporter")
        let exporterProgram = """
            mkdir -p \(folder)/bin && printf '#!/bin/sh\\n%s\\n' '\(exporter)' > \(folder)/bin/prometheus-node-exporter
            chmod +x \(folder)/bin/prometheus-node-exporter && PATH=\(folder)/bin:$PATH
            """
        return try await FakeSystemdHost(folder: folder).run(body, systemd: systemd, active: active, enabled: enabled, prior: prior, more: exporterProgram)
    }

    @Test func systemdRunsThePackagesUnitWithADropIn() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try await script({ $0.capture }, systemd: true, active: true, enabled: false).output == "systemd disabled")
        #expect(try await script({ $0.check }, systemd: true, active: true, enabled: true).status != 0)   // no drop-in yet
        #expect(try await script({ $0.apply }, systemd: true) == (0, "systemctl daemon-reload\nsystemctl restart prometheus-node-exporter\n"
                                                                + "systemctl enable -q prometheus-node-exporter\n"))
        let dropIn = try String(contentsOfFile: "\(folder)/etc/prometheus-node-exporter.service.d/lvsctl.conf", encoding: .utf8)
        #expect(dropIn == "[Service]\nExecStart=\nExecStart=/usr/bin/prometheus-node-exporter $ARGS --web.listen-address=:9110 "
                + "--collector.textfile.directory=\(folder)/textfiles\n")
        #expect(try await script({ $0.check }, systemd: true, active: true, enabled: true).status == 0)
        #expect(try await script({ $0.check }, systemd: true, active: true, enabled: false).status != 0)
        #expect(try await script({ $0.undo }, systemd: true, prior: "stopped disabled")
                == (0, "systemctl daemon-reload\nsystemctl stop prometheus-node-exporter\nsystemctl disable -q prometheus-node-exporter\n"))
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/etc/prometheus-node-exporter.service.d"))
        #expect(try await script({ $0.undo }, systemd: true, prior: "systemd enabled") == (0, "systemctl daemon-reload\nsystemctl restart prometheus-node-exporter\n"))
    }

    @Test func withoutSystemdLvsctlStartsAndStopsIt() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(try await script({ $0.capture }, systemd: false).output == "stopped none")
        #expect(try await script({ $0.check }, systemd: false).status != 0)
        #expect(try await script({ $0.apply }, systemd: false).status == 0)
        let pid = try #require(Int32(try String(contentsOfFile: "\(folder)/run/node-exporter-9110.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) == 0)
        #expect(try await script({ $0.check }, systemd: false).status == 0)
        #expect(try await script({ $0.undo }, systemd: false, prior: "stopped none").status == 0)
        #expect(kill(pid, 0) != 0)
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/run"))
        #expect(try await script({ $0.undo }, systemd: false, prior: "stopped none").status == 0)   // twice: nothing left to do
    }

    /// Another program on the port: node exporter logs why and exits; apply says so and fails.
    @Test func aTakenPortFailsWithTheExportersWords() async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try await script({ $0.apply }, systemd: false,
                                exporter: "echo level=error err=bind: address already in use; exit 1")
        #expect(result.status == 1)
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/run/node-exporter-9110.pid"))
    }
}
