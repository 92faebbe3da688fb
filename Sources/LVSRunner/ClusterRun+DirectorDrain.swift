import Foundation
import LVSKit

extension ClusterRun {
    /// How long a drained director's IPVS must see no new packet before its flows count as
    /// moved: the kernel folds its per-CPU counters into the totals about every 2 s, so two of
    /// those periods with the same totals.
    static let quietSpan: Duration = .seconds(4)

    /// An active-active director whose bird this run stopped announcing (`drain: true` newly
    /// set): waits until no packet reaches its IPVS services — the routers have moved its flows
    /// to the other directors — at most the drain timeout, and says so on bird's change.
    func awaitDrainedDirector(_ work: inout HostWork) async {
        guard inventory.directors.first(where: { $0.host == work.state.host.name })?.drained == true, work.usable,
              let birdChange = work.report.changes.firstIndex(where: { $0.change.resource == BirdConfig.resourceID.description && $0.status == .done })
        else { return }
        let timeout = runner.options.drainTimeout
        runner.options.onWait("... \(work.state.host.name): drained, waiting for the routers to move its flows "
                              + "(no packet for \(Self.quietSpan.components.seconds) s; at most \(timeout.components.seconds) s)")
        let clock = ContinuousClock(), started = clock.now
        var lastPackets: Int?, quietSince = clock.now
        var note = "drained: still receiving packets after \(timeout.components.seconds) s (the routers have not moved all its flows)"
        while clock.now - started < timeout + Self.quietSpan {
            guard let listing = await work.send(HostScript.readTrafficCounters).ipvs["stats"] else {
                note = "drained: its IPVS counters could not be read"
                break
            }
            let packets = IPVSAdm.table(listing: listing).serviceStats.values.reduce(0) { $0 + $1.inPackets }
            if packets != lastPackets { (lastPackets, quietSince) = (packets, clock.now) }
            if clock.now - quietSince >= Self.quietSpan {
                note = String(format: "drained: no packet for %d s, %.1f s after the VIPs were withdrawn",
                              Self.quietSpan.components.seconds, (quietSince - started).seconds)
                break
            }
            try? await Task.sleep(for: runner.options.drainPoll)
        }
        work.report.changes[birdChange].change.note = note
    }
}
