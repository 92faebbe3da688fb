/// The scripts lvsctl sends to a host, one per verb, so that a verb costs one round trip
/// whatever the number of steps. Each prints marker lines (`@@lvsctl …`) that `HostOutput`
/// reads back; everything else a step prints goes to its own error log.
///
/// State kept on the host under /var/lib/lvsctl (so `down` works from another machine, after a
/// crash, or after the playbooks changed): for each step `up` changed, what `capture` saw before
/// (`state/ID.prior`, written once, never overwritten by a later `up`) and the step's own undo
/// script (`state/ID.undo`); `manifest` lists them in the order they were applied.
public enum HostScript {
    public static let stateDirectory = "/var/lib/lvsctl"

    /// Runs every check; changes nothing.
    public static func plan(_ steps: [RenderedStep]) -> String {
        var script = prologue(state: false)
        for (index, step) in steps.enumerated() {
            script += """
            # \(step.name)
            if ( \(block(step.check)) ) >/dev/null 2>"$T/e"; then echo "@@lvsctl \(index) ok 0"; else echo "@@lvsctl \(index) would-change 0"; fi

            """
        }
        return script
    }

    /// Check; if it fails: capture (first time only), record the undo, apply, check again.
    /// The first failed step ends the script.
    public static func up(_ steps: [RenderedStep]) -> String {
        var script = prologue(state: true)
        for (index, step) in steps.enumerated() {
            let id = step.id
            let undo = step.undo ?? "true"
            let end = delimiter(avoiding: undo)
            script += """
            # \(step.name)
            clock; t0=$ticks
            if ( \(block(step.check)) ) >/dev/null 2>"$T/e"; then
              report "@@lvsctl \(index) ok"
            else
              if [ ! -e "$S/state/\(id).prior" ]; then
                ( \(block(step.capture ?? "true")) ) > "$T/prior" 2>>"$T/e"
                mkdir -p "$(dirname "$S/state/\(id)")" && mv "$T/prior" "$S/state/\(id).prior"
                cat > "$S/state/\(id).undo" <<'\(end)'
            \(undo)
            \(end)
              fi
              grep -qx '\(id) .*' "$S/manifest" 2>/dev/null || echo '\(id) applied' >> "$S/manifest"
              if ( \(block(step.apply)) ) >>"$T/e" 2>&1; then
                if ( \(block(step.check)) ) >/dev/null 2>>"$T/e"; then
                  report "@@lvsctl \(index) changed"
                else
                  step_failed \(index) '\(id)' "apply succeeded, but the check still fails afterwards"
                fi
              else
                step_failed \(index) '\(id)' "apply failed with exit status $?"
              fi
            fi

            """
        }
        return script
    }

    /// Runs the recorded undo scripts in reverse order; a no-op on a host never provisioned.
    public static func down() -> String {
        prologue(state: false) + """
        S=\(stateDirectory)
        [ -f "$S/manifest" ] || { echo "@@lvsctl-nothing"; exit 0; }
        awk '{ line[NR] = $0 } END { for (i = NR; i > 0; i--) print line[i] }' "$S/manifest" > "$T/order"
        : > "$T/kept"
        while read -r id how; do
          clock; t0=$ticks
          prior=$(cat "$S/state/$id.prior" 2>/dev/null)
          if ( . "$S/state/$id.undo" ) >"$T/e" 2>&1; then
            report "@@lvsctl-undo $id restored"
            rm -f "$S/state/$id.prior" "$S/state/$id.undo"
          elif [ "$how" = failed ]; then
            report "@@lvsctl-undo $id skipped"
            rm -f "$S/state/$id.prior" "$S/state/$id.undo"
          else
            report "@@lvsctl-undo $id failed"; sed "s/^/@@lvsctl-err $id /" "$T/e"
            echo "$id $how" >> "$T/kept"
          fi
        done < "$T/order"
        if [ -s "$T/kept" ]; then
          awk '{ line[NR] = $0 } END { for (i = NR; i > 0; i--) print line[i] }' "$T/kept" > "$S/manifest"
        else
          rm -rf "$S/manifest" "$S/state" "$S/www"
          if [ -e "$S/.created" ]; then rm -rf "$S"; fi
        fi

        """
    }

    /// Shell functions and folders every script starts with. Times come from /proc/uptime in
    /// hundredths of a second, reported in milliseconds. The bookkeeping around a step starts no
    /// process (a `$(…)` would fork, about 0.2 ms each on a small VM): `clock` sets `ticks`, and
    /// `report` prints a marker line ending in the milliseconds since `t0`.
    static func prologue(state: Bool) -> String {
        var text = """
        set -u
        umask 022
        T=$(mktemp -d) || exit 97
        trap 'rm -rf "$T"' EXIT
        clock() { read -r up _ < /proc/uptime; ticks=${up%.*}${up#*.}; }
        report() { clock; echo "$1 $(( (ticks - t0) * 10 ))"; }

        """
        if state {
            text += """
            # A failed step is reported with what it printed; later steps may depend on it, so the
            # script stops (they report not-run).
            step_failed() {
              report "@@lvsctl $1 failed"; echo "($3)" >> "$T/e"; sed "s/^/@@lvsctl-err $1 /" "$T/e"
              sed -i "s|^$2 applied\\$|$2 failed|" "$S/manifest"
              exit 0
            }
            S=\(stateDirectory)
            if [ ! -d "$S" ]; then mkdir -p "$S" && touch "$S/.created"; fi
            chmod 700 "$S" && mkdir -p "$S/state" || exit 98

            """
        }
        return text
    }

    /// A step's script as the body of a subshell: newlines kept, and a comment ending the last
    /// line cannot swallow the closing parenthesis.
    static func block(_ text: String) -> String { text + "\n" }

    /// A here-document end marker that does not occur in `text`.
    static func delimiter(avoiding text: String) -> String {
        var marker = "LVSCTL_UNDO_END"
        var n = 0
        while text.contains(marker) { n += 1; marker = "LVSCTL_UNDO_END_\(n)" }
        return marker
    }
}
