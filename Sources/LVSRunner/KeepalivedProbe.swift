import Foundation
import LVSKit

extension HostAccess {
    /// Every director's keepalived, read in parallel (a director that cannot be reached reads as
    /// stopped, with the reason as its only event).
    public func keepalivedStates(_ inventory: Inventory) async -> [KeepalivedState] {
        guard let vip = inventory.services.first?.vip else { return [] }
        return await askEveryDirector(inventory, KeepalivedState.script(vip: vip)) { output, director in
            var state = KeepalivedState.parse(output, host: director)
            state.vrrp = inventory.vipsHeldByVRRP
            return state
        } unreachable: { director, error in
            var state = KeepalivedState(host: director)
            state.events = [KeepalivedState.Event(time: "", text: "unreachable: \(error)")]
            state.vrrp = inventory.vipsHeldByVRRP
            return state
        }
    }

    /// Runs `script` as root on every director in parallel; each one's answer, in the
    /// inventory's order.
    func askEveryDirector<State: Sendable>(_ inventory: Inventory, _ script: String,
                                           parse: @escaping @Sendable (String, String) -> State,
                                           unreachable: @escaping @Sendable (String, any Error) -> State) async -> [State] {
        await withTaskGroup(of: (Int, State).self) { group in
            for (index, director) in inventory.directors.enumerated() {
                guard let host = inventory.host(named: director.host) else { continue }
                group.addTask {
                    do {
                        let output = try await withConnection(to: host) { connection, target in
                            try await runAsRoot(script, on: connection, host: host, user: target.user).standardOutput
                        }
                        return (index, parse(output, director.host))
                    } catch {
                        return (index, unreachable(director.host, error))
                    }
                }
            }
            var states: [(Int, State)] = []
            for await state in group { states.append(state) }
            return states.sorted { $0.0 < $1.0 }.map(\.1)
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
