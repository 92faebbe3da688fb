import Foundation
import Testing
@testable import LVSKit

/// Protocol timeouts (`cluster.timeouts`): parsed and refused with a position, one director
/// resource whose commands come from the ipvsadm grammar, and its shell run against an ipvsadm
/// that answers as ipvsadm 1.31 does on the lab's kernel.
struct IPVSTimeoutsTests {
    static func inventory(_ timeouts: String) -> String {
        InventoryValidationTests.base.replacingOccurrences(of: "  client: client\n", with: "  client: client\n  timeouts: \(timeouts)\n")
    }

    static func resource(_ timeouts: String) throws -> Resource? {
        let inventory = try InventoryParser.parse(inventory(timeouts), file: "inv.yml").get()
        return try render(inventory).first { $0.host.name == "director" }?.resources.first { $0.id.kind == "ipvs-timeouts" }
    }

    @Test func grammar() {
        #expect(IPVSAdm.setTimeouts(IPVSTimeouts(tcp: 7200, udp: 60)) == ["ipvsadm", "--set", "7200", "0", "60"])
        #expect(IPVSAdm.parseTimeouts("Timeout (tcp tcpfin udp): 900 120 300") == IPVSTimeouts(tcp: 900, tcpFin: 120, udp: 300))
        #expect(IPVSAdm.parseTimeouts("900 120 300") == IPVSTimeouts(tcp: 900, tcpFin: 120, udp: 300))
        #expect(IPVSAdm.parseTimeouts("") == nil)
        #expect(IPVSAdm.parseTimeouts("Timeout (tcp tcpfin udp): 900 120") == nil)
    }

    @Test func oneResourceWithTheGrammarsCommands() throws {
        let resource = try #require(try Self.resource("{ tcp: 7200, udp: 60 }"))
        #expect(resource.id.description == "ipvs-timeouts tcp tcpfin udp")
        #expect(resource.value == .ipvsTimeouts(IPVSTimeouts(tcp: 7200, udp: 60)))
        #expect(resource.value.wanted.to == "tcp 7200 udp 60")
        // What plan shows before the arrow: only the timeouts the inventory names.
        #expect(resource.value.current(fromCapture: "900 120 300") == "tcp 900 udp 300")
        #expect(resource.shell?.apply == "ipvsadm --set 7200 0 60 ")
        #expect(resource.name == "IPVS protocol timeouts tcp 7200 udp 60")
    }

    @Test func noTimeoutsNoResource() throws {
        let inventory = try InventoryParser.parse(InventoryValidationTests.base, file: "inv.yml").get()
        #expect(try render(inventory).flatMap(\.resources).allSatisfy { $0.id.kind != "ipvs-timeouts" })
    }

    @Test(arguments: [
        ("{ tcp: 0 }", "10:20: timeouts.tcp 0 is out of range: it must be a whole number from 1 to 2678400"),
        ("{ tcp: 99999999999999999999 }", "10:20: timeouts.tcp 99999999999999999999 is out of range: it must be a whole number from 1 to 2678400"),
        ("{ tcpfin: 30 }", "10:15: unknown key 'tcpfin': did you mean 'tcp_fin'? allowed here: tcp, tcp_fin, udp"),
        ("{ udp: soon }", "10:20: 'timeouts.udp' must be a whole number"),
    ])
    func refusedWithAPosition(timeouts: String, message: String) {
        #expect(InventoryValidationTests.problems(Self.inventory(timeouts)) == [message])
    }

    /// The template's check, capture and undo in a real shell, `ipvsadm` a function that prints
    /// what ipvsadm prints and logs what it is asked to set.
    @Test func shellAgainstIPVSAdmsOutput() async throws {
        let shell = try #require(try Self.resource("{ tcp: 7200, tcp_fin: 60 }")?.shell)
        func run(_ script: String, current: String) async throws -> (status: Int32, output: String) {
            try await runShell("ipvsadm() { case \"$1\" in -L) echo 'Timeout (tcp tcpfin udp): \(current)' ;; *) echo \"ipvsadm $*\" ;; esac; }\n" + script)
        }
        #expect(try await run(shell.check, current: "900 120 300").status == 1)
        #expect(try await run(shell.check, current: "7200 120 300").status == 1)
        #expect(try await run(shell.check, current: "7200 60 300").status == 0)   // udp is not the inventory's
        #expect(try await run(shell.capture ?? "", current: "900 120 300").output == "900 120 300\n")
        #expect(try await run(shell.apply, current: "900 120 300").output == "ipvsadm --set 7200 60 0\n")
        let undo = try #require(shell.undo)
        #expect(try await run("prior='900 120 300'\n" + undo, current: "7200 60 300").output == "ipvsadm --set 900 120 300\n")
        #expect(try await run("prior=''\n" + undo, current: "7200 60 300") == (0, ""))
    }
}
