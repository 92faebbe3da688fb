import Foundation
import LVSRunner
import Testing
@testable import LVSKit

/// Every value reaching a shell is typed and validated, or quoted: hostile text stays text.
struct ShellSafetyTests {
    @Test(arguments: [
        ("eth0", "eth0"), ("net/ipv4/ip_forward", "net/ipv4/ip_forward"), ("10.0.0.1:80", "10.0.0.1:80"),
        ("", "''"), ("I am RealServer1", "'I am RealServer1'"), ("it's", "'it'\\''s'"), ("$(reboot)", "'$(reboot)'"),
        ("a;b", "'a;b'"), ("`id`", "'`id`'"), ("x=y", "'x=y'"), ("*", "'*'"), ("line\nbreak", "'line\nbreak'"),
    ])
    func quoting(input: String, quoted: String) {
        #expect(ShellQuote.quote(input) == quoted)
    }

    /// Hostile test pages render into steps that write exactly that text: run through bash.
    @Test(arguments: ["$(reboot)", "'; rm -rf / #", "`touch /tmp/lvsctl-pwned`", "a\nb $HOME \\ \" '", "I am ‘RealServer’ – 1"])
    func hostilePageIsInert(page: String) async throws {
        var inventory = try loadInventory("dr.yml")
        inventory.pageTemplate = page
        let states = try render(inventory)
        let step = try #require(states.first { $0.host.name == "rs1" }?.resources.first { $0.template == "file" }?.shell)
        // Point the step at a scratch file and run its apply and check with bash.
        let scratch = NSTemporaryDirectory() + "lvsctl-page-\(UUID().uuidString)"
        let apply = step.apply.replacingOccurrences(of: "/var/lib/lvsctl/www/80/index.html", with: scratch + "/index.html")
        let check = step.check.replacingOccurrences(of: "/var/lib/lvsctl/www/80/index.html", with: scratch + "/index.html")
        #expect(try await bash(apply) == 0)
        #expect(try await bash(check) == 0)
        #expect(try String(contentsOfFile: scratch + "/index.html", encoding: .utf8) == page + "\n")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/lvsctl-pwned"))
        try? FileManager.default.removeItem(atPath: scratch)
    }

    @Test func pastedQuotesAreAllowedInFreeText() throws {
        let text = try String(contentsOfFile: "\(repositoryRoot)/inventories/dr.yml", encoding: .utf8)
            .replacingOccurrences(of: "  mode: dr", with: "  mode: dr\n  test_page: \"I am ‘RealServer{n}’ – {rip}\"")
        let inventory = try InventoryParser.parse(text, file: "dr.yml").get()
        #expect(inventory.page(for: "rs2") == "I am ‘RealServer2’ – 192.168.229.134")
    }

    private func bash(_ script: String) async throws -> Int32 {
        try await LocalProgram.run("/bin/bash", ["-c", script]).status
    }
}

/// Playbooks and templates are data; mistakes in them are explained.
struct PlaybookDataTests {
    static let sysctl = "resource: sysctl\nparams: [path, value]\ncheck: test 1\napply: echo {{value}} > /proc/sys/{{path}}\n"

    @Test func unknownTemplateIsNamed() throws {
        let library = try PlaybookLibrary.parse(
            templates: ["sysctl": Self.sysctl],
            playbooks: ["director": "role: director\nsteps:\n  - name: x\n    template: sysctll\n    with: {}\n"])
        #expect(throws: PlaybookError.unknownTemplate(step: "x", template: "sysctll", known: ["ipvs-service", "sysctl"])) {
            try DesiredStateBuilder(library: library).hosts(loadInventory("dr.yml"))
        }
    }

    @Test func missingParameterIsNamed() throws {
        let library = try PlaybookLibrary.parse(
            templates: ["sysctl": Self.sysctl],
            playbooks: ["director": "role: director\nsteps:\n  - name: forward\n    template: sysctl\n    with: { path: net/ipv4/ip_forward }\n"])
        #expect(throws: PlaybookError.missingParameter(step: "forward", template: "sysctl", parameter: "value")) {
            try DesiredStateBuilder(library: library).hosts(loadInventory("dr.yml"))
        }
    }

    /// A template that does not parse is reported with the step that uses it.
    @Test func brokenTemplateIsNamedWithItsStep() throws {
        let library = try PlaybookLibrary.parse(
            templates: ["sysctl": "resource: sysctl\nparams: [path, value]\ncheck: test 1\napply: echo {{#value}} > /proc/sys/{{path}}\n"],
            playbooks: ["real-server": "role: real-server\nsteps:\n  - name: forward\n    template: sysctl\n    with: { path: net/ipv4/ip_forward, value: \"1\" }\n"])
        #expect {
            try DesiredStateBuilder(library: library).hosts(loadInventory("dr.yml"))
        } throws: { error in
            guard case let .renderFailed(step, _)? = error as? PlaybookError else { return false }
            return step == "forward"
        }
    }

    /// A step added to the data files appears without recompiling anything, named by what it
    /// makes (not by its step name or position).
    @Test func addedStepIsRendered() throws {
        let library = try PlaybookLibrary.parse(
            templates: ["sysctl": Self.sysctl],
            playbooks: ["real-server": "role: real-server\nsteps:\n  - name: no source routing on {{item}}\n    for_each: [all, lo]\n    template: sysctl\n    with: { path: \"net/ipv4/conf/{{item}}/accept_source_route\", value: \"0\" }\n"])
        let states = try DesiredStateBuilder(library: library).hosts(loadInventory("dr.yml"))
        let resources = try #require(states.first { $0.host.name == "rs1" }?.resources)
        #expect(resources.map(\.name) == ["no source routing on all", "no source routing on lo"])
        #expect(resources.map(\.id.description) == ["sysctl net.ipv4.conf.all.accept_source_route", "sysctl net.ipv4.conf.lo.accept_source_route"])
        #expect(resources[0].shell?.apply == "echo 0 > /proc/sys/net/ipv4/conf/all/accept_source_route")
    }

    /// What a template makes is what it declares, whatever its file is called: a copy of the
    /// sysctl template under another name makes typed sysctls; a template named `sysctl` that
    /// declares nothing is a kind of its own, and needs an identity; an unknown kind is refused.
    @Test func resourceKindIsDeclaredNotTheFileName() throws {
        let step = "role: real-server\nsteps:\n  - name: rp_filter\n    template: TEMPLATE\n    with: { path: net/ipv4/conf/all/rp_filter, value: \"1\" }\n"
        let copied = try PlaybookLibrary.parse(templates: ["my-sysctl": Self.sysctl],
                                               playbooks: ["real-server": step.replacingOccurrences(of: "TEMPLATE", with: "my-sysctl")])
        let resources = try #require(try DesiredStateBuilder(library: copied).hosts(loadInventory("dr.yml")).first { $0.host.name == "rs1" }?.resources)
        #expect(resources.map(\.value) == [.sysctl(Sysctl(path: "net/ipv4/conf/all/rp_filter", value: "1"))])
        let undeclared = try PlaybookLibrary.parse(templates: ["sysctl": String(Self.sysctl.dropFirst("resource: sysctl\n".count))],
                                                   playbooks: ["real-server": step.replacingOccurrences(of: "TEMPLATE", with: "sysctl")])
        #expect(throws: PlaybookError.noIdentity(template: "sysctl")) { try DesiredStateBuilder(library: undeclared).hosts(loadInventory("dr.yml")) }
        #expect {
            try StepTemplate.parse(Self.sysctl.replacingOccurrences(of: "resource: sysctl", with: "resource: sysctll"), name: "x")
        } throws: { error in
            guard case let .malformed(file, reason)? = error as? PlaybookError else { return false }
            return file == "templates/x.yml" && reason.hasPrefix("resource 'sysctll' is not one lvsctl knows (sysctl, address,")
        }
    }

    /// Two steps that make the same resource would fight over it and over its record: refused,
    /// whether the playbook repeats a step or a list repeats an item.
    @Test(arguments: [
        "  - name: a\n    template: sysctl\n    with: { path: net/ipv4/ip_forward, value: \"1\" }\n  - name: b\n    template: sysctl\n    with: { path: net/ipv4/ip_forward, value: \"0\" }\n",
        "  - name: c {{item}}\n    for_each: [all, all]\n    template: sysctl\n    with: { path: \"net/ipv4/conf/{{item}}/rp_filter\", value: \"0\" }\n",
    ])
    func oneResourceOneStep(steps: String) throws {
        let library = try PlaybookLibrary.parse(templates: ["sysctl": Self.sysctl], playbooks: ["real-server": "role: real-server\nsteps:\n" + steps])
        #expect { try DesiredStateBuilder(library: library).hosts(loadInventory("dr.yml")) } throws: { error in
            guard case .duplicateResource? = error as? PlaybookError else { return false }
            return true
        }
    }

    /// The shipped playbooks make each resource once, on every host of every shipped inventory.
    @Test func identitiesAreUniquePerHost() throws {
        for name in ["nat.yml", "dr.yml", "tun.yml", "example.yml"] {
            for state in try render(loadInventory(name)) {
                #expect(Set(state.resources.map(\.id)).count == state.resources.count, "\(name) \(state.host.name)")
            }
        }
    }

    /// A template of a user's own must say what its resource is.
    @Test func customTemplateNeedsAnIdentity() throws {
        let custom = "params: [name]\ncheck: test -e /etc/{{name}}\napply: touch /etc/{{name}}\n"
        let playbook = "role: real-server\nsteps:\n  - name: marker\n    template: marker\n    with: { name: lvs-marker }\n"
        #expect(throws: PlaybookError.noIdentity(template: "marker")) {
            try DesiredStateBuilder(library: PlaybookLibrary.parse(templates: ["marker": custom], playbooks: ["real-server": playbook])).hosts(loadInventory("dr.yml"))
        }
        let library = try PlaybookLibrary.parse(templates: ["marker": custom + "identity: \"{{name}}\"\n"], playbooks: ["real-server": playbook])
        let resource = try #require(try DesiredStateBuilder(library: library).hosts(loadInventory("dr.yml")).first { $0.host.name == "rs1" }?.resources.first)
        #expect(resource.id.description == "marker lvs-marker")
    }
}
