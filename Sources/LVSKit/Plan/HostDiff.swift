/// Desired state against what a host reported: the changes, in plan's words. Pure: the host's
/// answers come in as `HostOutput`, the changes go out as values (and, for IPVS, as the steps
/// the director runs).
public enum HostDiff {
    /// Template resources, from the step reports of `plan` (`planned`) or `up` (done / failed).
    /// A resource with no report is one the host never reached (an earlier step failed).
    public static func resources(_ resources: [Resource], _ output: HostOutput, planned: Bool) -> (unchanged: Int, changes: [ChangeOutcome]) {
        var unchanged = 0
        var changes: [ChangeOutcome] = []
        for (index, resource) in resources.enumerated() where resource.shell != nil {
            guard let step = output.steps[index], step.status != nil else {
                changes.append(ChangeOutcome(change: describe(resource, step: nil), status: .notRun))
                continue
            }
            if step.status == .ok { unchanged += 1; continue }
            let status: ChangeStatus = step.status == .failed ? .failed : planned ? .planned : .done
            changes.append(ChangeOutcome(change: describe(resource, step: step), status: status, milliseconds: step.milliseconds,
                                         output: step.output.isEmpty ? nil : step.output.joined(separator: "\n"),
                                         command: status == .failed ? resource.shell?.apply : nil))
        }
        return (unchanged, changes)
    }

    /// `+ sysctl net.ipv4.conf.all.arp_ignore  0 → 1`, `~ file …  "old" → "new"`, or
    /// `~ … (drifted)` when the host no longer has what lvsctl last applied.
    static func describe(_ resource: Resource, step: HostOutput.Step?) -> ResourceChange {
        let wanted = resource.value.wanted
        let current = step?.now.flatMap { resource.value.current(fromCapture: $0) }
        guard let was = step?.was else {
            return ResourceChange(.add, resource.id.description, [Difference(wanted.attribute, from: current, to: wanted.to)])
        }
        if was == wanted.text {
            return ResourceChange(.change, resource.id.description, [Difference(wanted.attribute, from: current, to: wanted.to)], note: "drifted")
        }
        return ResourceChange(.change, resource.id.description, [Difference("", from: was.isEmpty ? nil : was, to: wanted.text)])
    }

    /// The records a host keeps that the desired state no longer names, newest first: what
    /// `up` undoes there (and all of them for a host that left the cluster).
    public static func unwanted(_ records: [HostOutput.Record], desired: [ResourceID]) -> [HostOutput.Record] {
        let wanted = Set(desired.map(\.recordKey))
        return records.filter { !wanted.contains($0.key) }.sorted { $0.order > $1.order }
    }

    /// A record about to be undone, in plan's words.
    public static func removal(_ record: HostOutput.Record) -> ResourceChange {
        ResourceChange(.remove, record.id, record.applied.map { [Difference("", from: $0, to: "as before")] } ?? [])
    }

    /// What `down` (or `up`, for what left the inventory) undid, in plan's words.
    public static func undone(_ undos: [HostOutput.Undo], records: [HostOutput.Record]) -> [ChangeOutcome] {
        let byKey = Dictionary(records.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        return undos.map { undo in
            let record = byKey[undo.key] ?? HostOutput.Record(key: undo.key, order: 0, id: undo.id)
            return ChangeOutcome(change: removal(record), status: undo.status == .restored ? .done : undo.status == nil ? .notRun : .failed,
                                 milliseconds: undo.milliseconds, output: undo.output.isEmpty ? nil : undo.output.joined(separator: "\n"))
        }
    }

    /// What the director runs to turn its live table into the desired one: each service's
    /// changes (a service lvsctl has no record of gets one first, holding what was there), the
    /// deletion of recorded services no longer wanted, and the live services lvsctl neither made
    /// nor wants, which it leaves alone.
    public static func ipvs(desired: [IPVSService], live: IPVSTable, records: [HostOutput.Record])
        -> (steps: [HostScript.IPVSStep], leftAlone: [IPVSService]) {
        let recorded = Set(records.map(\.key))
        var steps: [HostScript.IPVSStep] = []
        for service in desired {
            let current = live.service(service.key)
            for (index, change) in IPVSReconciler.changes(live: current, desired: service).enumerated() {
                let needsRecord = index == 0 && !recorded.contains(service.key.resourceID.recordKey)
                steps.append(HostScript.IPVSStep(change: change, record: needsRecord ? HostScript.IPVSRecord(key: service.key, prior: current) : nil))
            }
        }
        let wantedKeys = Set(desired.map(\.key))
        for record in records.sorted(by: { $0.order > $1.order }) {
            guard let key = record.ipvsService, !wantedKeys.contains(key) else { continue }
            steps.append(HostScript.IPVSStep(change: .delete(live.service(key) ?? IPVSService(key: key, scheduler: "?"))))
        }
        let leftAlone = live.services.filter { !wantedKeys.contains($0.key) && !recorded.contains($0.key.resourceID.recordKey) }
        return (steps, leftAlone)
    }

    /// `! ipvs tcp 10.9.9.9:80  (not created by lvsctl: left alone)`
    public static func leftAlone(_ service: IPVSService) -> ResourceChange {
        ResourceChange(.leftAlone, service.key.resourceID.description, IPVSReconciler.settingsWords(service), note: "not created by lvsctl: left alone")
    }
}
