@testable import LVSKit
import Testing

/// Active-active directors with health checks: keepalived withdraws a VIP from the routers when
/// the last of its real servers fails (quorum_down → birdc disable) and announces it again when
/// one returns, and keeps a failed server at weight 0 so every director's list keeps one order.
@Suite struct HealthGatedAnnouncementTests {
    static func inventory() throws -> Inventory {
        var inventory = try loadInventory("active-active.yml")
        inventory.services[0].healthCheck = try loadInventory("ha-dr.yml").services[0].healthCheck
        return inventory
    }

    static func virtualServer(_ inventory: Inventory, director: Int = 0) -> [String] {
        let lines = KeepalivedConfig.file(DesiredCluster(inventory), director: inventory.directors[director]).split(separator: "\n").map(String.init)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("virtual_server ") }) else { return [] }
        return Array(lines[start...])
    }

    /// keepalived's verdict against bird's announcement, read from the table: weights adding up
    /// to 0 (every server failed: inhibited) want the VIP withdrawn, any weight announced, no
    /// service yet leaves it be; a service on another port of the VIP does not count. `check`
    /// fails when bird differs; `tell` tells bird (after `birdc configure`, which enables every
    /// protocol its file enables).
    @Test(arguments: [
        ("-a -t 192.168.0.200:80 -r 10.0.0.11:80 -g -w 1\n-a -t 192.168.0.200:80 -r 10.0.0.12:80 -g -w 0", "up", true, "enable lvsctl_vip0"),
        ("-a -t 192.168.0.200:80 -r 10.0.0.11:80 -g -w 1", "down", false, "enable lvsctl_vip0"),
        ("-a -t 192.168.0.200:80 -r 10.0.0.11:80 -g -w 0\n-a -t 192.168.0.200:80 -r 10.0.0.12:80 -g -w 0\n-a -t 192.168.0.200:8080 -r 10.0.0.11:8080 -g -w 1",
         "up", false, "disable lvsctl_vip0"),
        ("-a -t 192.168.0.200:80 -r 10.0.0.11:80 -g -w 0", "down", true, "disable lvsctl_vip0"),
        ("-a -t 192.168.0.200:8080 -r 10.0.0.11:8080 -g -w 1", "up", true, ""),
        ("", "down", true, ""),
    ])
    func keepalivedsVerdictAgainstBirds(save: String, bird: String, agrees: Bool, told: String) async throws {
        let inventory = try Self.inventory()
        let script = BirdConfig.gateReassertion(DesiredCluster(inventory), director: inventory.directors[0])
        #expect(script.contains(BirdConfig.birdc))
        func run(_ mode: String) async throws -> (status: Int32, output: String) {
            try await runShell("""
                ipvsadm() { printf '%s\\n' '-A -t 192.168.0.200:80 -s mh -b mh-fallback,mh-port' \(ShellQuote.quote(save)); }
                exec 3>&1
                birdc() {
                  if [ "$1" = show ]; then printf '%s\\n' 'BIRD 2.0.12 ready.' 'Name       Proto      Table      State  Since         Info' \\
                    "lvsctl_vip0 Static     master4    \(bird)     21:24:39.440"; else echo "$@" >&3; fi
                }
                set -- \(mode)
                \(script.replacingOccurrences(of: BirdConfig.birdc, with: "birdc"))
                """)
        }
        #expect(try await run("check") == (agrees ? 0 : 1, ""))
        #expect(try await run("tell") == (0, told.isEmpty ? "" : told + "\n"))
    }

    /// keepalived adds real servers in its file's order, each at the head of the kernel's list
    /// (a reload too): the file lists them in the reverse of a holder's kernel order, new ones
    /// after, so that a director making the service afresh lists them as its peers do.
    @Test(arguments: [
        (["10.0.0.13:80", "10.0.0.12:80", "10.0.0.11:80"], ["10.0.0.11", "10.0.0.12", "10.0.0.13"]),
        (["10.0.0.12:80", "10.0.0.11:80"], ["10.0.0.11", "10.0.0.12", "10.0.0.13"]),
        (["10.0.0.13:80", "10.0.0.11:80", "10.0.0.12:80"], ["10.0.0.12", "10.0.0.11", "10.0.0.13"]),
        (["10.0.0.13:80", "10.0.0.99:80", "10.0.0.12:80"], ["10.0.0.12", "10.0.0.13", "10.0.0.11"]),
    ])
    func realServersListedInTheReverseOfTheKernelsOrder(kernel: [String], listed: [String]) throws {
        let inventory = try Self.inventory()
        let desired = DesiredCluster(inventory)
        let key = desired.ipvsServices[0].key
        let file = KeepalivedConfig.file(desired, director: inventory.directors[2]) { $0 == key ? kernel.map(ep) : nil }
        let servers = file.split(separator: "\n").filter { $0.hasPrefix("    real_server ") }.map { String($0.split(separator: " ")[1]) }
        #expect(servers == listed)
        #expect(KeepalivedConfig.file(desired, director: inventory.directors[2]) { _ in nil } == KeepalivedConfig.file(desired, director: inventory.directors[2]))
    }

    @Test func nothingToTellWithoutGates() throws {
        let inventory = try loadInventory("active-active.yml")
        #expect(BirdConfig.gateReassertion(DesiredCluster(inventory), director: inventory.directors[0]) == "")
    }

    @Test func lastServerDownWithdrawsTheVIP() throws {
        let inventory = try Self.inventory()
        let config = KeepalivedConfig.file(DesiredCluster(inventory), director: inventory.directors[1])
        #expect(config.contains("    script_user root\n    enable_script_security\n"))
        let server = Self.virtualServer(inventory, director: 1)
        #expect(Array(server.prefix(12)) == [
            "virtual_server 192.168.0.200 80 {",
            "    delay_loop 2",
            "    lvs_sched mh",
            "    lvs_method DR",
            "    mh-fallback",
            "    mh-port",
            "    protocol TCP",
            "    quorum 1",
            "    quorum_up \"/usr/sbin/birdc -s /var/lib/lvsctl/bird/bird.ctl enable lvsctl_vip0\"",
            "    quorum_down \"/usr/sbin/birdc -s /var/lib/lvsctl/bird/bird.ctl disable lvsctl_vip0\"",
            "    real_server 10.0.0.11 80 {",
            "        weight 1",
        ], "\(server)")
        #expect(server.filter { $0 == "        inhibit_on_failure" }.count == 3, "a failed server stays in the list at weight 0")
    }

    @Test func notGatedWhereTheAnnouncementIsNotKeepalivedsToMove() throws {
        var drained = try Self.inventory()
        drained.standbyDirectors[0].drained = true
        #expect(!Self.virtualServer(drained, director: 1).contains { $0.contains("quorum") }, "a drained director announces nothing")
        #expect(Self.virtualServer(drained, director: 0).contains { $0.contains("quorum_down") })

        var sorry = try Self.inventory()
        sorry.services[0].sorryServer = SorryServer(host: "rs3", rip: try IPAddress.parse("10.0.0.13").get(), port: 80, location: sorry.director.location)
        #expect(!Self.virtualServer(sorry).contains { $0.contains("quorum") }, "the sorry server answers when all are down")

        var shared = try Self.inventory()
        var https = shared.services[0]
        https.address = .socket(.tcp, https.vip, port: 443)
        shared.services.append(https)
        #expect(!Self.virtualServer(shared).contains { $0.contains("quorum") }, "one service down must not withdraw the VIP's others")

        var unchecked = try Self.inventory()
        unchecked.services[0].healthCheck = nil
        unchecked.services[0].sorryServer = SorryServer(host: "rs3", rip: try IPAddress.parse("10.0.0.13").get(), port: 80, location: unchecked.director.location)
        #expect(!Self.virtualServer(unchecked).contains { $0.contains("quorum") || $0.contains("inhibit") })
    }
}
