extension HostScript {
    /// plan: each template resource's check; for those that fail, what the host has now and
    /// what lvsctl last applied (the `~ old → new` of the plan). Changes nothing.
    public static func check(_ resources: [Resource], including: (Int) -> Bool = { _ in true }) -> String {
        var script = ""
        for (index, resource) in resources.enumerated() where including(index) {
            guard let shell = resource.shell else { continue }
            let key = resource.id.recordKey
            if shell.requirement {
                // plan refuses the host as up would, and goes on checking the rest.
                script += requirement(resource.name, shell, index: index,
                                      unmet: "report \"\(HostMarker.step) \(index) \(StepStatus.failed)\"; sed \"s/^/\(HostMarker.err) \(index) /\" \"$T/e\"")
                continue
            }
            script += """
            # \(resource.name)
            if \(shell.checkGroup) 9>&- >/dev/null 2>"$T/e"; then echo "\(HostMarker.step) \(index) \(StepStatus.ok) 0"; else clock; t0=$ticks
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
    /// gets no record: there is nothing to put back. A check that passes is not timed (the clock
    /// is /proc/uptime read twice, and a host runs hundreds of passing checks: a real server's
    /// ports); a change is.
    /// - including: which of them (by index; the rest are another part's), all by default.
    public static func apply(_ resources: [Resource], including: (Int) -> Bool = { _ in true }) -> String {
        var script = ""
        for (index, resource) in resources.enumerated() where including(index) {
            guard let shell = resource.shell else { continue }
            if shell.requirement {
                // Nothing to make (no record, no second check): unmet, the conversation ends.
                script += requirement(resource.name, shell, index: index, unmet: "step_failed \(index) \"apply failed with exit status $?\"")
                continue
            }
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
            if \(shell.checkGroup) 9>&- >/dev/null 2>"$T/e"; then
              \(shell.undo == nil ? "" : "record_applied \(key) \(value); ")echo "\(HostMarker.step) \(index) \(StepStatus.ok) 0"
            else
              clock; t0=$ticks
            \(record)
              if ( \(shell.apply)
              ) 9>&- >>"$T/e" 2>&1; then
                net_gen=$((net_gen + 1))
                if \(shell.checkGroup) 9>&- >/dev/null 2>>"$T/e"; then
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

    /// A requirement's step: its check; unmet, its apply (which only says why), then `unmet`.
    static func requirement(_ name: String, _ shell: StepShell, index: Int, unmet: String) -> String {
        """
        # \(name)
        if \(shell.checkGroup) 9>&- >/dev/null 2>"$T/e"; then echo "\(HostMarker.step) \(index) \(StepStatus.ok) 0"; else clock; t0=$ticks
          ( \(shell.apply)
          ) 9>&- >>"$T/e" 2>&1
          \(unmet)
        fi

        """
    }
}
