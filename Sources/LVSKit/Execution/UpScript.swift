/// What `up` sends each host, part by part (the runner and `plan --show-script` both use these).
public enum UpScript {
    /// A real server's only part: lock, record, its resources, the cluster's hosts. What it
    /// holds and no longer needs waits until the director stopped sending it that traffic.
    public static func realServer(_ state: HostState, members: [String], owner: String, lockWait: Int) -> String {
        HostScript.opening(.change, owner: owner, lockWait: lockWait, readIPVS: false)
            + HostScript.apply(state.resources) + HostScript.writeCluster(members)
    }

    /// The director's first part: lock, record, its resources (IPVS loaded, the VIP…), then the
    /// live table (read after the module is loaded: lvsctl records loading it itself). Those that
    /// wait for the drains come later, but keepalived comes here while the table is empty
    /// (nothing can drain): a pair's first `up` starts every director's keepalived at once, and
    /// the priorities decide the election. An active-active director's keepalived and bird wait
    /// for the next part (bird announces once keepalived has made the table).
    public static func directorOpening(_ state: HostState, owner: String, lockWait: Int) -> String {
        // An active-active director's keepalived waits too: its file lists the real servers in
        // its peers' kernel order, known once every director's table is read.
        let later = state.afterDrains, keepalived = state.bird.isEmpty ? state.keepalived : []
        return HostScript.opening(.change, owner: owner, lockWait: lockWait, readIPVS: false)
            + HostScript.apply(state.resources, including: { !later.contains($0) })
            + (keepalived.isEmpty ? "" : "if [ -z \"$(\(IPVSAdm.readSave) 2>/dev/null)\" ]; then\n"
               + HostScript.apply(state.resources, including: keepalived.contains) + "fi\n")
            + HostScript.readIPVSTable(stats: false)
    }

    /// The director's resources that wait until its IPVS changes are made and the real servers
    /// leaving have drained: keepalived's configuration (whose reload removes them; already
    /// made by the opening when the table was empty, it only passes its check again) and bird.
    public static func directorAfterDrains(_ state: HostState) -> String {
        let later = state.afterDrains
        return later.isEmpty ? "" : HostScript.apply(state.resources, including: later.contains)
    }

    /// The director's second part: the IPVS steps computed from the first part's answer, the
    /// removal of what it no longer needs, the cluster's hosts (leaving ones too).
    /// - unwanted: the records of what it no longer needs (`HostDiff.unwanted`), but for IPVS
    ///   services, which the steps delete.
    public static func directorChanges(_ state: HostState, steps: [HostScript.IPVSStep], live: IPVSTable,
                                       unwanted: [HostOutput.Record], members: [String]) -> String {
        HostScript.ipvs(steps, live: live) + HostScript.undo(unwanted.filter { $0.ipvsService == nil })
            + HostScript.writeCluster(members)
    }

    /// The services `up` is about to create, made by the director while the real servers do
    /// their part (at a thousand services their records cost the director about as much as the
    /// batch, and their `-A`s a third of it): a new service is created whatever the real servers
    /// answer (only its new real servers wait for them, and get traffic once they are added), so
    /// it is known once the table is read. A kill before the destinations' batch leaves services
    /// without real servers, recorded: `down` deletes them, the next `up` adds their real servers.
    public static func creations(_ steps: [HostScript.IPVSStep]) -> [HostScript.IPVSStep] {
        steps.filter { $0.change.createdService != nil }
    }

    /// The director's part written while the real servers work: the records of the services
    /// about to be created, then the services, without their destinations (empty: no part to
    /// send).
    public static func directorCreations(_ creations: [HostScript.IPVSStep]) -> String {
        HostScript.newRecords(creations.compactMap(\.record)) + HostScript.makeServices(creations.compactMap(\.change.createdService))
    }

    /// The steps, with the services made earlier (and recorded with them) left with their
    /// destinations to add.
    public static func steps(_ steps: [HostScript.IPVSStep], created: Set<IPVSServiceKey>) -> [HostScript.IPVSStep] {
        steps.map { step in
            var step = step
            if step.change.createdService != nil, created.contains(step.change.serviceKey) { (step.record, step.serviceMade) = (nil, true) }
            return step
        }
    }

    /// Every part `up` sends a host with nothing recorded yet (a director with an empty table).
    public static func firstParts(_ state: HostState, cluster: [HostState], owner: String = "up", lockWait: Int = 0) -> String {
        let members = cluster.map { ClusterMember($0.host).line }
        guard state.roles.contains(.director) else {
            return HostScript.part(1, realServer(state, members: members, owner: owner, lockWait: lockWait))
        }
        let (steps, _) = HostDiff.ipvs(desired: state.ipvsServices, live: IPVSTable(), records: [])
        let created = creations(steps)
        var parts = [directorOpening(state, owner: owner, lockWait: lockWait)]
        if !created.isEmpty { parts.append(directorCreations(created)) }
        parts.append(directorChanges(state, steps: Self.steps(steps, created: Set(created.map(\.change.serviceKey))), live: IPVSTable(), unwanted: [], members: members)
                     + directorAfterDrains(state))
        return parts.enumerated().map { HostScript.part($0.offset + 1, $0.element) }.joined()
    }
}
