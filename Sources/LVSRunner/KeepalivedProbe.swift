import Foundation
import LVSKit

extension HostAccess {
    /// Every director's keepalived, read in parallel (a director that cannot be reached reads as
    /// stopped, with the reason as its only event).
    public func keepalivedStates(_ inventory: Inventory) async -> [KeepalivedState] {
        guard let vip = inventory.services.first?.vip else { return [] }
        return await withTaskGroup(of: (Int, KeepalivedState).self) { group in
            for (index, director) in inventory.directors.enumerated() {
                guard let host = inventory.host(named: director.host) else { continue }
                group.addTask {
                    do {
                        let output = try await withConnection(to: host) { connection, target in
                            try await runAsRoot(KeepalivedState.script(vip: vip), on: connection, host: host, user: target.user).standardOutput
                        }
                        return (index, KeepalivedState.parse(output, host: director.host))
                    } catch {
                        var state = KeepalivedState(host: director.host)
                        state.events = [KeepalivedState.Event(time: "", text: "unreachable: \(error)")]
                        return (index, state)
                    }
                }
            }
            var states: [(Int, KeepalivedState)] = []
            for await state in group { states.append(state) }
            return states.sorted { $0.0 < $1.0 }.map { _, state in
                var state = state
                state.vrrp = inventory.vipsHeldByVRRP
                return state
            }
        }
    }

    /// The director whose table clients reach: the one holding the VIP when VRRP moves it, else
    /// the first. With VRRP and no holder (every keepalived stopped), the first.
    public func activeDirector(_ inventory: Inventory) async -> (host: InventoryHost?, states: [KeepalivedState]) {
        guard inventory.vipsHeldByVRRP else { return (inventory.host(named: inventory.director.host), []) }
        let states = await keepalivedStates(inventory)
        let holder = states.first(where: \.holdsVIP)?.host ?? inventory.director.host
        return (inventory.host(named: holder), states)
    }

    /// After `up` of a director pair: reads the directors until exactly one holds the VIP (at
    /// most `vrrp.electionBound`), so `up` ends when clients can reach the cluster, and a pair
    /// that splits (both MASTER) or never elects is reported rather than left for `verify`.
    public func awaitVIPHolder(_ inventory: Inventory) async -> VIPHolding? {
        guard let vrrp = inventory.vrrp else { return nil }
        let interface = vrrp.interface ?? inventory.director.interface
        let clock = ContinuousClock()
        let started = clock.now
        while true {
            let holders = await keepalivedStates(inventory).filter(\.holdsVIP).map(\.host)
            let elapsed = (clock.now - started).seconds
            if holders.count == 1 || elapsed >= vrrp.electionBound {
                return VIPHolding(holders: holders, seconds: elapsed, bound: vrrp.electionBound, interface: interface)
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}
