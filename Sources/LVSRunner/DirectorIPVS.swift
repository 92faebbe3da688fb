import LVSKit

/// The director's IPVS table over its conversation: what `up` finishes its changes through (the
/// in-memory `IPVSTwin` is the other implementation). Each part is one round trip; a deletion is
/// recorded before it is made, as every IPVS change is.
struct DirectorIPVS: IPVSInterface {
    var work: HostWork

    mutating func connections(of keys: [IPVSServiceKey]) async -> IPVSTable? {
        guard work.usable else { return nil }
        let output = await work.send(HostScript.readConnections(keys))
        return output.ipvs["thresholds"].map { IPVSAdm.table(listing: $0) }
    }

    mutating func apply(_ steps: [HostScript.IPVSStep], endingBridges bridges: [SchedulerBridge]) async -> [HostOutput.Step?] {
        let output = await work.send(HostScript.ipvs(steps, live: IPVSTable()) + HostScript.removeBridges(bridges))
        return HostScript.ipvsResults(steps, output)
    }
}
