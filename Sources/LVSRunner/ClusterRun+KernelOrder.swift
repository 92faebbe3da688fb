import Foundation
import LVSKit

extension ClusterRun {
    /// Active-active directors whose keepalived makes the table: each one's keepalived.conf
    /// rendered again once every director's table is read, listing a service's real servers
    /// after the kernel's order on a director that holds it (this one, else a peer). A director
    /// making a service afresh then lists its destinations as its peers do (the same Maglev
    /// table), and one that holds it finds its file as it left it.
    /// - recheck: `plan` checked the file as the inventory alone renders it; a director whose
    ///   file comes out otherwise checks it again (up applies it in a later part anyway).
    func inKernelOrder(_ works: [HostWork], recheck: Bool = false) async -> [HostWork] {
        guard inventory.isActiveActive, inventory.usesKeepalived, let library = runner.library else { return works }
        let tables = works.compactMap(\.opening.ipvsTable)
        let builder = DesiredStateBuilder(library: library)
        var ordered: [HostWork] = []
        for var work in works {
            let own = work.opening.ipvsTable
            // Rendered once already from the same playbooks: it does not fail now (and would
            // leave the director as the inventory alone renders it).
            if work.usable, let director = inventory.director(named: work.state.host.name),
               let state = try? builder.director(desired, director, destinationOrder: { key in
                   own?.kernelOrder(of: key) ?? tables.kernelOrder(of: key)
               }) {
                let changed = state.keepalived.filter { state.resources[$0] != work.state.resources[$0] }
                work.state = state
                if recheck && !changed.isEmpty {
                    let output = await work.send(HostScript.check(state.resources, including: changed.contains))
                    work.opening.steps.merge(output.steps) { _, again in again }
                }
            }
            ordered.append(work)
        }
        return ordered
    }
}
