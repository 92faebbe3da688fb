/// Judges a director's live IPVS table against the inventory: a service matches when the
/// reconciler would change nothing in it (the same comparison `up` makes, in the same words).
public enum TableJudge {
    public static func judge(live: IPVSTable, desired: [IPVSService]) -> [Verdict] {
        desired.map { service in
            let changes = IPVSReconciler.changes(live: live.service(service.key), desired: service)
            let detail = changes.isEmpty
                ? "scheduler \(service.scheduler), \(service.destinations.count) real servers, methods, weights and thresholds as in the inventory"
                : (live.service(service.key) == nil ? "missing from the director's table: " : "differs; up would make: ")
                    + changes.flatMap(\.descriptions).map(\.text).joined(separator: "; ")
            return Verdict(.tableMatches, check: "ipvsadm -Ln matches \(service.key.resourceID)", passed: changes.isEmpty, detail: detail)
        }
    }
}
