/// The director's IPVS changes at the kernel's batch speed. A process per change (an `ipvsadm`
/// per command, a `mkdir` and a `mv` per record) made `up` of a few hundred services cost
/// minutes on an emulated director; here the processes a director starts do not grow with the
/// number of changes: the records are written by the shell itself (one `mkdir` and one `mv` for
/// all of them), the changes go to one `ipvsadm -R`, and the services that leave are deleted in
/// another. Order is kept where it matters: a service's record is made before the change it
/// protects, a scheduler change goes through its bridge before the service's other changes, and
/// deletions come last.
extension HostScript {
    /// One IPVS change as the director runs it: the service's record first (when lvsctl has
    /// none: what the director had before, and how to put it back), then the ipvsadm commands.
    public struct IPVSStep: Sendable, Equatable {
        public var change: IPVSService.Change
        /// Set when the service needs a record: the live service before lvsctl (nil: none).
        public var record: IPVSRecord?
        /// A service this `up` created in an earlier part (`UpScript.directorCreations`): only
        /// its destinations are left to add.
        public var serviceMade: Bool
        public init(change: IPVSService.Change, record: IPVSRecord? = nil, serviceMade: Bool = false) {
            self.change = change
            self.record = record
            self.serviceMade = serviceMade
        }

        /// The ipvsadm commands the step still runs: its change's, less the `-A` of a service
        /// made earlier.
        public var commands: [[String]] {
            guard serviceMade, let service = change.createdService else { return change.commands }
            return service.destinations.map { IPVSAdm.addDestination($0, to: service.key) }
        }
    }

    public struct IPVSRecord: Sendable, Equatable {
        public var key: IPVSServiceKey
        public var prior: IPVSService?
        public init(key: IPVSServiceKey, prior: IPVSService?) {
            self.key = key
            self.prior = prior
        }

        /// Deletes the service, then puts back what was there before lvsctl: runs again safely.
        public var undo: String {
            var lines = [IPVSAdm.shell(IPVSAdm.deleteService(key)) + " 2>/dev/null || :"]
            if let prior { lines += IPVSAdm.create(prior).map(IPVSAdm.shell) }
            return lines.joined(separator: "\n")
        }

        /// What `ipvsadm -S -n` printed of the service before lvsctl (empty: nothing), which is
        /// what `ipvsadm -R` reads to put it back.
        public var priorLines: String { prior.map { IPVSAdm.saveLines($0).joined(separator: "\n") } ?? "" }
    }

    /// A recorded IPVS service to delete, and whether the director's table still has it.
    public struct IPVSUndo: Sendable, Equatable {
        public var key: IPVSServiceKey
        public var live: Bool
        public init(key: IPVSServiceKey, live: Bool) {
            self.key = key
            self.live = live
        }
    }

    /// up, on the director: the IPVS steps (see `IPVSBatch` for their order). A bridged change
    /// reports `@@lvsctl-ipvs N STATUS MS`, the batch `@@lvsctl-batch STATUS MS` (and, when the
    /// kernel refused part of it, the table as it is after it), a deletion its record's undo.
    public static func ipvs(_ steps: [IPVSStep], live: IPVSTable) -> String {
        let batch = IPVSBatch(steps)
        var script = newRecords(steps.compactMap(\.record))
        for index in batch.bridged {
            script += "# \(steps[index].change.description.text)\nclock; t0=$ticks\n" + bridged(steps[index].change.bridge!, index: index)
        }
        let shares = batch.shares
        // A batch of services made earlier alone has no line left, but is judged all the same.
        if !shares.isEmpty || batch.batched.contains(where: { steps[$0].serviceMade }) {
            script += """
            # \(batch.batched.count) changes in ipvsadm -R (two side by side past \(IPVSBatch.sharedFrom) lines). It goes on past a
            # line the kernel refuses and exits with the last line's status: a refusal shows on
            # stderr (here or in $T/made-e, the services made earlier), and the table is then read
            # back to tell what was made.
            clock; t0=$ticks
            \(restore(shares, errors: "e"))
            if [ $lvsctl_s -eq 0 ] && [ ! -s "$T/e" ] && [ ! -s "$T/made-e" ]; then report "\(HostMarker.batch) \(StepStatus.done)"; else
              report "\(HostMarker.batch) \(StepStatus.failed)"
              [ ! -s "$T/made-e" ] || sed "s/^/\(HostMarker.batchError) /" "$T/made-e"; sed "s/^/\(HostMarker.batchError) /" "$T/e"
              echo '\(HostMarker.ipvs) after'; \(IPVSAdm.readKernelTable) 2>&1
              echo '\(HostMarker.ipvs) after-thresholds'; \(IPVSAdm.readThresholds) 2>&1
              echo '\(HostMarker.ipvs) end'
              exit 0
            fi

            """
        }
        let deletions = batch.deletions.map { index -> IPVSUndo in
            let key = steps[index].change.serviceKey
            return IPVSUndo(key: key, live: live.service(key) != nil)
        }
        return script + undoIPVS(deletions)
    }

    /// How each step of `ipvs(steps, live:)` went, from what the director printed.
    public static func ipvsResults(_ steps: [IPVSStep], _ output: HostOutput) -> [HostOutput.Step?] {
        let after = output.ipvs["after"].map { IPVSAdm.table(kernel: $0, thresholds: output.ipvs["after-thresholds"] ?? "") }
        var undone: [String: HostOutput.Step] = [:]
        for undo in output.undos {
            undone[undo.key] = HostOutput.Step(status: undo.status == .restored ? .done : undo.status == nil ? nil : .failed,
                                               milliseconds: undo.milliseconds, output: undo.output)
        }
        return IPVSBatch(steps).results(bridged: output.ipvsSteps, batch: output.ipvsBatch, after: after, undone: undone)
    }

    /// `ipvsadm -R`s of these shares (none, one, or two side by side, the second in the
    /// background): the status in $lvsctl_s, what the kernel refused in $T/`errors`.
    static func restore(_ shares: [[String]], errors: String) -> String {
        func ipvsadm(_ lines: [String], errors: String, background: Bool) -> String {
            let end = delimiter(avoiding: lines.joined())
            return "ipvsadm -R 2>\"$T/\(errors)\" <<'\(end)'\(background ? " &" : "")\n\(lines.joined(separator: "\n"))\n\(end)\n"
        }
        switch shares.count {
        case 0: return ": > \"$T/\(errors)\"; lvsctl_s=0"
        case 1: return ipvsadm(shares[0], errors: errors, background: false) + "lvsctl_s=$?"
        default:
            return ipvsadm(shares[1], errors: errors + "-shared", background: true) + "lvsctl_shared=$!\n"
                + ipvsadm(shares[0], errors: errors, background: false)
                + "lvsctl_s=$?; wait $lvsctl_shared || lvsctl_s=$?\n"
                + "[ ! -s \"$T/\(errors)-shared\" ] || cat \"$T/\(errors)-shared\" >> \"$T/\(errors)\""
        }
    }

    /// Work for the director's shell in two shares side by side once there is enough of it
    /// (`IPVSBatch.sharedFrom`, each item's weight in lines or files): two contiguous runs of
    /// about equal weight, in order. One (or none) below.
    static func shares<Item>(_ items: [Item], weight: (Item) -> Int = { _ in 1 }) -> [[Item]] {
        let total = items.reduce(0) { $0 + weight($1) }
        guard total >= IPVSBatch.sharedFrom else { return items.isEmpty ? [] : [items] }
        var first = 0, index = 0
        while index < items.count && first * 2 < total { first += weight(items[index]); index += 1 }
        return [Array(items[..<index]), Array(items[index...])].filter { !$0.isEmpty }
    }

    /// Records for the services about to be made or taken over, before any change: written by
    /// the shell itself in `tmp/`, then renamed into `r/` (each rename one step), a `mkdir` and a
    /// `mv` for all of them. The director's lock is held, so the opening's list of records is
    /// still true: no record here exists yet.
    static func newRecords(_ records: [IPVSRecord]) -> String {
        guard !records.isEmpty else { return "" }
        let keys = records.map(\.key.resourceID.recordKey)
        var script = """
        # Records of \(records.count) services, made before they change
        records_failed() { report "\(HostMarker.batch) \(StepStatus.failed)"; echo "\(HostMarker.batchError) cannot write the records under $S"; exit 0; }
        clock; t0=$ticks

        """
        for chunk in chunks(keys) {
            script += "mkdir -p \"$S/r\" " + chunk.map { "\"$S/tmp/\($0)\"" }.joined(separator: " ") + " || records_failed\n"
        }
        script += "n=0; [ ! -f \"$S/seq\" ] || read -r n < \"$S/seq\"\n"
        // The files (3 or 4 a record: most of this part's time) written by one function per
        // share, numbered on from the host's sequence.
        let shares = shares(Array(zip(records, keys).enumerated()), weight: { $0.element.0.prior == nil ? 3 : 4 })
        for (number, share) in shares.enumerated() {
            script += "lvsctl_records_\(number + 1)() {\n"
            for (index, (record, key)) in share {
                let folder = "\"$S/tmp/\(key)\""
                // A service lvsctl creates had nothing before it: no prior (a file less per service).
                let prior = record.prior == nil ? "" : "printf '%s\\n' \(ShellQuote.quote(record.priorLines)) > \(folder)/prior && "
                script += prior + "printf '%s\\n' \(ShellQuote.quote(record.undo)) > \(folder)/undo"
                    + " && printf '%s\\n' \(ShellQuote.quote(record.key.resourceID.description)) > \(folder)/id && echo $((n + \(index + 1))) > \(folder)/order || return 1\n"
            }
            script += "}\n"
        }
        script += shares.count == 1 ? "lvsctl_records_1 || records_failed\n"
            : "lvsctl_records_2 & lvsctl_shared=$!\nlvsctl_records_1; lvsctl_s=$?; wait $lvsctl_shared || lvsctl_s=1\n[ $lvsctl_s -eq 0 ] || records_failed\n"
        script += "echo $((n + \(records.count))) > \"$S/seq\" || records_failed\n"
        for chunk in chunks(keys) {
            script += "mv " + chunk.map { "\"$S/tmp/\($0)\"" }.joined(separator: " ") + " \"$S/r/\" || records_failed\n"
        }
        return script
    }

    /// The services an `up` creates, made in one `ipvsadm -R` before their destinations (see
    /// `UpScript.directorCreations`): what the kernel refuses is kept in $T/made-e, for the
    /// batch that adds the destinations to report (the conversation's $T lasts across parts).
    static func makeServices(_ services: [IPVSService]) -> String {
        guard !services.isEmpty else { return "" }
        return """
        # \(services.count) services made before their real servers are ready (they get them later)
        \(restore(shares(services.map { IPVSAdm.batchLine(IPVSAdm.addService($0)) }), errors: "made-e"))
        [ $lvsctl_s -eq 0 ] || [ -s "$T/made-e" ] || echo "ipvsadm -R exited with status $lvsctl_s" > "$T/made-e"

        """
    }

    /// Recorded IPVS services deleted together, and what was there before lvsctl put back: one
    /// `ipvsadm -R` reads a `-D` for each one the table still has, then each record's prior
    /// lines. Should the kernel refuse any of it, each record's own undo runs instead (undos
    /// run again safely).
    /// A scheduler bridge's record also removes its marking rule: it is undone on its own.
    public static func undoIPVS(_ undos: [IPVSUndo]) -> String {
        let bridges = undos.filter(\.key.isSchedulerBridge), services = undos.filter { !$0.key.isSchedulerBridge }
        var script = bridges.map { "[ ! -d \"$S/r/\($0.key.resourceID.recordKey)\" ] || record_undo \($0.key.resourceID.recordKey)\n" }.joined()
        guard !services.isEmpty else { return script }
        let lines = services.filter(\.live).map { IPVSAdm.batchLine(IPVSAdm.deleteService($0.key)) }
        let end = delimiter(avoiding: lines.joined())
        script += """
        # \(services.count) services that leave, deleted together
        lvsctl_undo_ipvs '\(services.map(\.key.resourceID.recordKey).joined(separator: " "))' <<'\(end)'
        \(lines.joined(separator: "\n"))
        \(end)

        """
        return script
    }

    /// `down` on the director: every IPVS service it recorded, deleted together (before the rest
    /// of its records: nothing else depends on a service, a service on what is older).
    public static func undoIPVS(records: [HostOutput.Record], live: IPVSTable) -> String {
        undoIPVS(records.sorted { $0.order > $1.order }.compactMap { record in
            record.ipvsService.map { key in IPVSUndo(key: key, live: live.service(key) != nil) }
        })
    }

    /// Long argument lists in parts: a command line has a size limit (about 2 MB here; 2 000
    /// record folders take about 200 kB).
    static func chunks(_ words: [String], size: Int = 2000) -> [ArraySlice<String>] {
        stride(from: 0, to: words.count, by: size).map { words[$0..<min($0 + size, words.count)] }
    }

    /// A scheduler change through its bridge: the bridge is recorded before it exists (its undo
    /// removes it), and deleted by a later part once its connections have ended. Without
    /// iptables there is no bridge: a plain `-E`, and a note saying what that risks.
    static func bridged(_ bridge: SchedulerBridge, index: Int) -> String {
        let key = bridge.resourceID.recordKey
        let plain = IPVSAdm.shell(IPVSAdm.editService(bridge.to))
        return """
        if command -v \(bridge.iptables) >/dev/null 2>&1; then
          if ! record_whole \(key); then
            record_begin \(key) && : > "$rec/prior" && printf '%s\\n' \(ShellQuote.quote(bridge.undo)) > "$rec/undo" &&
              record_commit \(key) \(ShellQuote.quote(bridge.resourceID.description)) ||
              { report "\(HostMarker.ipvs) \(index) \(StepStatus.failed)"; echo "\(HostMarker.ipvsError) \(index) cannot write the record under $S"; exit 0; }
          fi
          if { \(bridge.commands.joined(separator: " && ")); } 2>"$T/e"; then report "\(HostMarker.ipvs) \(index) \(StepStatus.done)"; else
            report "\(HostMarker.ipvs) \(index) \(StepStatus.failed)"; sed "s/^/\(HostMarker.ipvsError) \(index) /" "$T/e"; exit 0
          fi
        else
          echo "\(HostMarker.ipvsError) \(index) no \(bridge.iptables) on this director to bridge the change: new connections met no scheduler for an instant"
          if \(plain) 2>"$T/e"; then report "\(HostMarker.ipvs) \(index) \(StepStatus.done)"; else
            report "\(HostMarker.ipvs) \(index) \(StepStatus.failed)"; sed "s/^/\(HostMarker.ipvsError) \(index) /" "$T/e"; exit 0
          fi
        fi

        """
    }

    /// Deletes scheduler bridges whose connections have ended (their records' undo does it).
    public static func removeBridges(_ bridges: [SchedulerBridge]) -> String {
        bridges.map { "[ ! -d \"$S/r/\($0.resourceID.recordKey)\" ] || record_undo \($0.resourceID.recordKey)\n" }.joined()
    }
}

/// A director's IPVS steps sorted by how they are made: a scheduler change one by one through
/// its bridge (iptables around `-E`), every other change in one `ipvsadm -R`, and the deletion
/// of services that left through their records. The shell (`HostScript.ipvs`) and the in-memory
/// twin make them in this order, and judge them the same way.
public struct IPVSBatch: Sendable {
    public let steps: [HostScript.IPVSStep]
    /// Made first, in order, each stopping the rest if it fails.
    public let bridged: [Int]
    /// Made together, in order, after the bridged ones.
    public let batched: [Int]
    /// Made last: each service's record undone.
    public let deletions: [Int]

    public init(_ steps: [HostScript.IPVSStep]) {
        self.steps = steps
        var bridged: [Int] = [], batched: [Int] = [], deletions: [Int] = []
        for (index, step) in steps.enumerated() {
            if case .delete = step.change { deletions.append(index) }
            else if step.change.bridge != nil { bridged.append(index) }
            else { batched.append(index) }
        }
        (self.bridged, self.batched, self.deletions) = (bridged, batched, deletions)
    }

    /// The lines `ipvsadm -R` reads for the batched steps.
    public var lines: [String] { batched.flatMap { steps[$0].commands.map(IPVSAdm.batchLine) } }

    /// From this many lines, the batch goes to two `ipvsadm -R`s side by side.
    public static let sharedFrom = 1000

    /// The batch's lines as the `ipvsadm -R`s read them: past `sharedFrom` lines, in two shares
    /// of about as many lines, each service's lines in one share and in their order (the kernel
    /// takes services in any order). Most of a line's cost is ipvsadm's own (a netlink socket
    /// and a family look-up per command), so on a director with two CPUs two processes make
    /// 2 000 destinations in 0.44–0.55 s where one takes 0.66 (the lab's emulated director).
    public var shares: [[String]] {
        var services: [IPVSServiceKey] = [], byService: [IPVSServiceKey: [String]] = [:]
        for index in batched {
            let key = steps[index].change.serviceKey
            if byService[key] == nil { services.append(key) }
            byService[key, default: []] += steps[index].commands.map(IPVSAdm.batchLine)
        }
        return HostScript.shares(services.map { byService[$0]! }.filter { !$0.isEmpty }, weight: \.count).map { $0.flatMap { $0 } }
    }

    /// How each step went. The batch as a whole when the kernel took all of it; when it refused
    /// part, each change judged by the table read back after it (`after`).
    /// - bridged: the bridged steps' own reports, by step index.
    /// - undone: the deletions' record undos, by record key.
    public func results(bridged reports: [Int: HostOutput.Step], batch: HostOutput.Step?, after: IPVSTable?,
                        undone: [String: HostOutput.Step]) -> [HostOutput.Step?] {
        var results = [HostOutput.Step?](repeating: nil, count: steps.count)
        for index in bridged { results[index] = reports[index] }
        if let batch, batch.status != nil {
            for index in batched {
                guard batch.status != .done else { results[index] = batch; continue }
                let made = after.map { steps[index].change.isMade(in: $0) } ?? false
                results[index] = HostOutput.Step(status: made ? .done : .failed, milliseconds: batch.milliseconds,
                                                 output: made ? [] : batch.output)
            }
        }
        for index in deletions {
            results[index] = undone[steps[index].change.serviceKey.resourceID.recordKey]
        }
        return results
    }
}
