extension HostScript {
    /// plan: each template resource's check; for those that fail, what the host has now and
    /// what lvsctl last applied (the `~ old → new` of the plan). Changes nothing.
    public static func check(_ resources: [Resource], including: (Int) -> Bool = { _ in true }) -> String {
        // plan refuses the host as up would, and goes on checking the rest.
        steps(resources, including: including, requirements: .checkingAll) { index, resource, shell in
            let key = resource.id.recordKey
            return """
            # \(resource.name)
            if \(shell.checkGroup) 9>&- >/dev/null 2>"$T/e"; then echo "\(HostMarker.step) \(index) \(StepStatus.ok) 0"; else clock; t0=$ticks
              ( \(shell.capture ?? "true")
              ) 9>&- > "$T/prior" 2>/dev/null; now=; read -r now < "$T/prior"; short "$now"; echo "\(HostMarker.now) \(index) $short"
              if record_whole \(key); then was=; [ -f "$S/r/\(key)/applied" ] && read -r was < "$S/r/\(key)/applied"; echo "\(HostMarker.was) \(index) $was"; fi
              report "\(HostMarker.step) \(index) \(StepStatus.wouldChange)"
            fi

            """
        }
    }

    /// up: each template resource's check; for each that fails: what the host has now (the
    /// prior state, recorded with the undo the first time only), apply, check again. A
    /// resource with no undo (a package lvsctl leaves installed, a check that changes nothing)
    /// gets no record: there is nothing to put back. A check that passes is not timed (the clock
    /// is /proc/uptime read twice, and a host runs hundreds of passing checks: a real server's
    /// ports); a change is.
    /// - including: which of them (by index; the rest are another part's), all by default.
    public static func apply(_ resources: [Resource], including: (Int) -> Bool = { _ in true }) -> String {
        // The record folders these steps may need, made together at the first change (record_begin).
        let keys = resources.enumerated().compactMap { index, resource in
            including(index) && resource.shell?.undo != nil ? resource.id.recordKey : nil
        }
        let steps = applySteps(resources, including: including)
        guard keys.count > 1 else { return steps }
        return "lvsctl_record_keys='\(keys.joined(separator: " "))'\n" + steps + "lvsctl_premade_done\n"
    }

    static func applySteps(_ resources: [Resource], including: (Int) -> Bool) -> String {
        // A requirement has nothing to make (no record, no second check): unmet, the conversation ends.
        steps(resources, including: including, requirements: .endingAtFirstUnmet) { index, resource, shell in
            let key = resource.id.recordKey
            let value = ShellQuote.quote(resource.value.wanted.text)
            let record: String
            if let undo = shell.undo {
                record = """
                  if record_whole \(key); then cap="$T/prior"; rec=; else record_begin \(key) || step_failed \(index) "cannot write the record under $S"; cap="$rec/prior"; fi
                  ( \(shell.capture ?? "true")
                  ) 9>&- > "$cap" 2>>"$T/e"
                  now=; read -r now < "$cap"; short "$now"; echo "\(HostMarker.now) \(index) $short"
                  if [ -z "$rec" ]; then
                    was=; [ -f "$S/r/\(key)/applied" ] && read -r was < "$S/r/\(key)/applied"; echo "\(HostMarker.was) \(index) $was"
                  else
                    printf '%s\\n' \(ShellQuote.quote(undo)) > "$rec/undo"
                    record_commit \(key) \(ShellQuote.quote(resource.id.description)) || step_failed \(index) "cannot write the record under $S"
                  fi
                """
            } else {
                record = ""
            }
            return """
            # \(resource.name)
            if \(shell.checkGroup) 9>&- >/dev/null 2>"$T/e"; then
              \(shell.undo == nil ? "" : "record_applied \(key) \(value); ")echo "\(HostMarker.step) \(index) \(StepStatus.ok) 0"
            else
              clock; t0=$ticks
            \(record)
              if ( \(shell.apply)
              ) 9>&- >>"$T/e" 2>&1; then
                net_gen=$((net_gen + 1)); lvsctl_recheck=1
                if \(shell.checkGroup) 9>&- >/dev/null 2>>"$T/e"; then
                  lvsctl_recheck=; record_applied \(key) \(value)
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
    }

    /// What an unmet requirement does: `plan` reports it and checks the rest; `up` ends there.
    enum Requirements {
        case checkingAll, endingAtFirstUnmet

        /// The shell reporting unmet requirement `index` (an expression), whose apply's status
        /// is `status` and whose output (with its check's stderr) is in the file `output`.
        func unmet(_ index: String, status: String, output: String) -> String {
            switch self {
            case .checkingAll: return "report \"\(HostMarker.step) \(index) \(StepStatus.failed)\"; sed \"s/^/\(HostMarker.err) \(index) /\" \"\(output)\""
            case .endingAtFirstUnmet: return "step_failed \(index) \"apply failed with exit status \(status)\""
            }
        }
    }

    /// The included resources' steps: each resource with a shell as `each` renders it, except
    /// requirements, and requirements checked in lvsctl's shell (`inline_check`) that follow one
    /// another go together (`requirementsTogether`).
    static func steps(_ resources: [Resource], including: (Int) -> Bool, requirements: Requirements,
                      each: (Int, Resource, StepShell) -> String) -> String {
        var script = ""
        var together: [(index: Int, resource: Resource, shell: StepShell)] = []
        func flush() {
            if together.count > 1 {
                script += requirementsTogether(together, requirements)
            } else {
                script += together.map { requirement($0.resource.name, $0.shell, index: $0.index, requirements) }.joined()
            }
            together = []
        }
        for (index, resource) in resources.enumerated() where including(index) {
            guard let shell = resource.shell else { continue }
            if shell.requirement && shell.inlineCheck {
                if let last = together.last, last.index != index - 1 { flush() }
                together.append((index, resource, shell))
                continue
            }
            flush()
            script += shell.requirement ? requirement(resource.name, shell, index: index, requirements) : each(index, resource, shell)
        }
        flush()
        return script
    }

    /// A requirement's step: its check; unmet, its apply (which only says why), then `unmet`.
    static func requirement(_ name: String, _ shell: StepShell, index: Int, _ requirements: Requirements) -> String {
        """
        # \(name)
        if \(shell.checkGroup) 9>&- >/dev/null 2>"$T/e"; then echo "\(HostMarker.step) \(index) \(StepStatus.ok) 0"; else clock; t0=$ticks
          ( \(shell.apply)
          ) 9>&- >>"$T/e" 2>&1
          \(requirements.unmet(String(index), status: "$?", output: "$T/e"))
        fi

        """
    }

    /// Requirements checked in this shell, one after another (steps `first`…`last`), in one
    /// function: a line each, and one marker for all those met. A real server checks every port
    /// of every service it serves, and each check as a step of its own cost its redirections and
    /// marker (0.3 s of shell for 1 000 under emulation, against 0.1 s) and 450 bytes of script.
    /// The checks' stderr goes to one file: an unmet one's report holds what those before it
    /// printed there too (lvsctl's own checks print nothing).
    static func requirementsTogether(_ steps: [(index: Int, resource: Resource, shell: StepShell)], _ requirements: Requirements) -> String {
        let first = steps[0].index, end = steps[steps.count - 1].index + 1
        // The apply runs in a subshell where its check failed (a function's body is parsed once).
        let onUnmet = requirements == .checkingAll
            ? { (index: Int, apply: String) in "lvsctl_unmet=\"$lvsctl_unmet \(index)\"; ( \(apply)\n) > \"$T/unmet-\(index)\" 2>&1" }
            : { (index: Int, apply: String) in "lvsctl_unmet=\(index); ( \(apply)\n) >> \"$T/e\" 2>&1; lvsctl_status=$?; return" }
        var script = "# \(steps[0].resource.name) … \(steps[steps.count - 1].resource.name): \(steps.count) requirements (steps \(first)-\(end - 1)) checked together\n"
        script += "lvsctl_requirements_\(first)() {\n"
        for step in steps {
            script += "\(step.shell.checkGroup) || { \(onUnmet(step.index, step.shell.apply)); }\n"
        }
        script += "}\n"
        script += "lvsctl_unmet=; lvsctl_status=0; clock; t0=$ticks\n"
        script += "lvsctl_requirements_\(first) 9>&- >/dev/null 2>\"$T/e\"\n"
        switch requirements {
        case .checkingAll:
            script += "echo \"\(HostMarker.met) \(first) \(end)\"\n"
            script += "for n in $lvsctl_unmet; do \(requirements.unmet("$n", status: "1", output: "$T/unmet-$n")); done\n\n"
        case .endingAtFirstUnmet:
            script += "echo \"\(HostMarker.met) \(first) ${lvsctl_unmet:-\(end)}\"\n"
            script += "[ -z \"$lvsctl_unmet\" ] || \(requirements.unmet("$lvsctl_unmet", status: "$lvsctl_status", output: "$T/e"))\n\n"
        }
        return script
    }
}
