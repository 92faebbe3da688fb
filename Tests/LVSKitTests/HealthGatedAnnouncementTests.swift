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
