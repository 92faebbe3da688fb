extension HostScript {
    /// plan: each template resource's check; for those that fail, what the host has now and
    /// what lvsctl last applied (the `~ old → new` of the plan). Changes nothing.
    public static func check(_ resources: [Resource]) -> String {
        var script = ""
        for (index, resource) in resources.enumerated() {
            guard let shell = resource.shell else { continue }
            let key = resource.id.recordKey
            if shell.requirement {
                // Unmet: its apply says why; plan refuses the host as up would (and goes on
                // checking the rest).
                script += """
                # \(resource.name)
                clock; t0=$ticks
                if ( \(shell.check)
                ) 9>&- >/dev/null 2>"$T/e"; then report "\(HostMarker.step) \(index) \(StepStatus.ok)"; else
                  ( \(shell.apply)
                  ) 9>&- >>"$T/e" 2>&1
                  report "\(HostMarker.step) \(index) \(StepStatus.failed)"; sed "s/^/\(HostMarker.err) \(index) /" "$T/e"
                fi

                """
                continue
            }
            script += """
            # \(resource.name)
            clock; t0=$ticks
            if ( \(shell.check)
            ) 9>&- >/dev/null 2>"$T/e"; then report "\(HostMarker.step) \(index) \(StepStatus.ok)"; else
              ( \(shell.capture ?? "true")
              ) 9>&- > "$T/prior" 2>/dev/null; now=; read -r now < "$T/prior"; short "$now"; echo "\(HostMarker.now) \(index) $short"
              if [ -d "$S/r/\(key)" ]; then was=; [ -f "$S/r/\(key)/applied" ] && read -r was < "$S/r/\(key)/applied"; echo "\(HostMarker.was) \(index) $was"; fi
              report "\(HostMarker.step) \(index) \(StepStatus.wouldChange)"
            fi

            """
        }
        return script
    }

    /// up: each template resource's check; for each that fails: what the host has now (the
    /// prior state, recorded with the undo the first time only), apply, check again. A
    /// resource with no undo (a package lvsctl leaves installed, a check that changes nothing)
    /// gets no record: there is nothing to put back.
    public static func apply(_ resources: [Resource]) -> String {
        var script = ""
        for (index, resource) in resources.enumerated() {
            guard let shell = resource.shell else { continue }
            let key = resource.id.recordKey
            let value = ShellQuote.quote(resource.value.wanted.text)
            let record: String
            if let undo = shell.undo {
                record = """
                  if [ -d "$S/r/\(key)" ]; then cap="$T/prior"; else record_begin \(key) || step_failed \(index) "cannot write the record under $S"; cap="$rec/prior"; fi
                  ( \(shell.capture ?? "true")
                  ) 9>&- > "$cap" 2>>"$T/e"
                  now=; read -r now < "$cap"; short "$now"; echo "\(HostMarker.now) \(index) $short"
                  if [ -d "$S/r/\(key)" ]; then
                    was=; [ -f "$S/r/\(key)/applied" ] && read -r was < "$S/r/\(key)/applied"; echo "\(HostMarker.was) \(index) $was"
                  else
                    printf '%s\\n' \(ShellQuote.quote(undo)) > "$rec/undo"
                    record_commit \(key) \(ShellQuote.quote(resource.id.description)) || step_failed \(index) "cannot write the record under $S"
                  fi
                """
            } else {
                record = ""
            }
            script += """
            # \(resource.name)
            clock; t0=$ticks
            if ( \(shell.check)
            ) 9>&- >/dev/null 2>"$T/e"; then
              record_applied \(key) \(value)
              report "\(HostMarker.step) \(index) \(StepStatus.ok)"
            else
            \(record)
              if ( \(shell.apply)
              ) 9>&- >>"$T/e" 2>&1; then
                if ( \(shell.check)
                ) 9>&- >/dev/null 2>>"$T/e"; then
                  record_applied \(key) \(value)
                  report "\(HostMarker.step) \(index) \(StepStatus.changed)"
                else
                  step_failed \(index) "apply succeeded, but the check still fails afterwards"
                fi
              else
                step_failed \(index) "apply failed with exit status $?"
              fi
            fi

            """
        }
        return script
    }

    /// A scheduler change through its bridge: the bridge is recorded before it exists (its undo
    /// removes it), and deleted by a later part once its connections have ended. Without
    /// iptables there is no bridge: a plain `-E`, and a note saying what that risks.
    static func bridged(_ bridge: SchedulerBridge, index: Int) -> String {
        let key = bridge.resourceID.recordKey
        let plain = IPVSAdm.shell(IPVSAdm.editService(bridge.to))
        return """
        if command -v \(bridge.iptables) >/dev/null 2>&1; then
          if [ ! -d "$S/r/\(key)" ]; then
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

    /// One IPVS change as the director runs it: the service's record first (when lvsctl has
    /// none: what the director had before, and how to put it back), then the ipvsadm commands.
    public struct IPVSStep: Sendable, Equatable {
        public var change: IPVSService.Change
        /// Set when the service needs a record: the live service before lvsctl (nil: none).
        public var record: IPVSRecord?
        public init(change: IPVSService.Change, record: IPVSRecord? = nil) {
            self.change = change
            self.record = record
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
    }

    /// up, on the director: the IPVS changes, each reported as `@@lvsctl-ipvs N done|failed`.
    /// A service that left the inventory is deleted by its record's undo. The first failure
    /// ends the conversation.
    public static func ipvs(_ steps: [IPVSStep]) -> String {
        var script = ""
        for (index, step) in steps.enumerated() {
            script += "# \(step.change.description.text)\nclock; t0=$ticks\n"
            if case let .delete(service) = step.change {
                let key = service.key.resourceID.recordKey
                script += """
                if [ -d "$S/r/\(key)" ]; then record_undo \(key); else \(IPVSAdm.shell(IPVSAdm.deleteService(service.key))) 2>/dev/null || :; fi
                report "\(HostMarker.ipvs) \(index) \(StepStatus.done)"

                """
                continue
            }
            if let record = step.record {
                let prior = record.prior.map { IPVSAdm.saveLines($0).joined(separator: "\n") } ?? ""
                let key = record.key.resourceID.recordKey
                script += """
                if [ ! -d "$S/r/\(key)" ]; then
                  record_begin \(key) && printf '%s\\n' \(ShellQuote.quote(prior)) > "$rec/prior" && printf '%s\\n' \(ShellQuote.quote(record.undo)) > "$rec/undo" &&
                    record_commit \(key) \(ShellQuote.quote(record.key.resourceID.description)) ||
                    { report "\(HostMarker.ipvs) \(index) \(StepStatus.failed)"; echo "\(HostMarker.ipvsError) \(index) cannot write the record under $S"; exit 0; }
                fi

                """
            }
            if let bridge = step.change.bridge {
                script += Self.bridged(bridge, index: index)
                continue
            }
            let commands = step.change.shell
            if commands.isEmpty {
                script += "report \"\(HostMarker.ipvs) \(index) \(StepStatus.done)\"\n"
                continue
            }
            script += """
            if { \(commands.joined(separator: " && ")); } 2>"$T/e"; then report "\(HostMarker.ipvs) \(index) \(StepStatus.done)"; else
              report "\(HostMarker.ipvs) \(index) \(StepStatus.failed)"; sed "s/^/\(HostMarker.ipvsError) \(index) /" "$T/e"; exit 0
            fi

            """
        }
        return script
    }
}
