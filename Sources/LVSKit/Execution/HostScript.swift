/// The shell lvsctl sends a host. Each verb is one conversation with one `/bin/sh` on the host,
/// sent in parts; each part is a function that runs only once it has arrived whole (a part cut
/// short by lvsctl dying is a syntax error, never half a command) and ends by printing
/// `@@lvsctl-end N`. The shell holds the host's lock for the whole conversation, and ignores
/// SIGPIPE: a part that started runs to its end even if lvsctl goes away.
///
/// The host's record lives under /var/lib/lvsctl: `r/KEY/` per resource lvsctl changed (KEY from
/// `ResourceID.recordKey`), holding its identity (`id`), when it was first changed (`order`),
/// what was there before (`prior`, written once; none for an IPVS service lvsctl created), the
/// undo script (`undo`) and the value last applied (`applied`). A record is made in place before
/// the change it protects and is whole once its `order` is written, last; a folder lacking it is
/// one a killed run was making (its key was added to `making` first), removed by the next run
/// that changes things. Undoing a record is running its undo (which may run twice: undo scripts
/// are idempotent) and renaming it away. So a run killed at any point leaves a record that
/// `down` or the next `up` completes.
public enum HostScript {
    public static let stateDirectory = "/var/lib/lvsctl"
    /// How long a run waits for the shell of a run whose lvsctl is gone to finish its part.
    public static let orphanWait = 300
    /// Seconds a lock holder whose session still lives is watched for becoming an orphan (a
    /// killed run's session ends a moment after it), before the run is refused as another's.
    public static let orphanGrace = 5
    /// Tries of the lock: a holder gone at the first look is tried again 0.2 s later, this many
    /// times at most (and a lock file `down` removed meanwhile is opened again).
    static let lockAttempts = 6

    /// Which lock a conversation takes: plan reads (shared), up and down change (exclusive).
    public enum Access: Sendable { case read, change }

    /// Part `number`: a function holding `body`, called only after its closing brace arrived.
    public static func part(_ number: Int, _ body: String) -> String {
        "lvsctl_part_\(number)() {\n\(body)\necho '\(HostMarker.end) \(number)'\n}\nlvsctl_part_\(number)\n"
    }

    /// The start of every conversation: the shell's helpers, the state folder (created only by
    /// a run that changes things), the lock, and what the host has recorded.
    /// - owner: who holds the lock, for a run that finds it taken.
    public static func opening(_ access: Access, owner: String, lockWait: Int, readIPVS: Bool) -> String {
        var text = prologue
        // lvsctl before 0.2 kept a `manifest` of steps: its records cannot be read here.
        text += "[ ! -f \"$S/manifest\" ] || { echo \"\(HostMarker.fatal) this host was provisioned by an older lvsctl (its record is $S/manifest): run that version's down first\"; exit 0; }\n"
        switch access {
        case .change:
            text += """
            # Made private when lvsctl makes it (a chmod on every run was a process on every host).
            if [ ! -d "$S" ]; then { [ -d "${S%/*}" ] || mkdir -p "${S%/*}"; } && mkdir -m 700 "$S" 2>/dev/null && : > "$S/.created"; fi
            [ -d "$S" ] || { echo "\(HostMarker.fatal) cannot create lvsctl's state folder $S (not root? read-only /var?)"; exit 0; }
            lvsctl_lock -x \(lockWait) \(ShellQuote.quote(owner))
            # What a killed run left half-made (never applied: records come first), or undone and
            # not yet removed.
            [ ! -d "$S/tmp" ] || rm -rf "$S/tmp"
            [ ! -s "$S/making" ] || lvsctl_unmade "rm -rf"

            """
        case .read:
            // Nothing recorded, nothing to keep steady: and reading must not leave a lock file behind.
            text += "[ ! -d \"$S/r\" ] || lvsctl_lock -s \(lockWait) \(ShellQuote.quote(owner))\n"
        }
        text += "lvsctl_records\n"
        text += "[ ! -f \"$S/cluster\" ] || sed 's/^/\(HostMarker.cluster) /' \"$S/cluster\"\n"
        // The lock is held and the record read: lvsctl may start on other hosts meanwhile.
        text += "echo '\(held)'\n"
        if readIPVS { text += readIPVSTable(stats: false) }
        return text
    }

    /// The line a conversation prints once it holds the host's lock.
    public static let held = HostMarker.held.description

    /// The director's table, when IPVS is loaded (reading it with ipvsadm would load the module,
    /// and a module lvsctl did not load must be recorded as loaded by someone else first): the
    /// kernel's listing and the thresholds listing (see `IPVSAdm.table(kernel:thresholds:)`).
    public static func readIPVSTable(stats: Bool) -> String {
        """
        if [ -d /sys/module/ip_vs ] && command -v ipvsadm >/dev/null 2>&1; then
          echo '\(HostMarker.ipvs) kernel'; \(IPVSAdm.readKernelTable) 2>&1
          echo '\(HostMarker.ipvs) thresholds'; \(IPVSAdm.readThresholds) 2>&1
        \(stats ? "  echo '\(HostMarker.ipvs) stats'; \(IPVSAdm.readStats) 2>&1\n" : "")  echo '\(HostMarker.ipvs) end'
        fi

        """
    }

    /// What lvsctl's bird says of its sessions and VIPs (`status` of active-active directors).
    public static let readBird = "echo '\(HostMarker.ipvs) bird'\n\(BirdState.script)\necho '\(HostMarker.ipvs) end'\n"

    /// The traffic counters alone (one process): what a drained director is watched by until
    /// no packet reaches it.
    public static let readTrafficCounters = "echo '\(HostMarker.ipvs) stats'\n\(IPVSAdm.readStats) 2>&1\necho '\(HostMarker.ipvs) end'\n"

    /// The connection counts of the services whose real servers are draining: with a few,
    /// their own listings; with more, the whole table's (one process, however many drain).
    public static func readConnections(_ keys: [IPVSServiceKey]) -> String {
        let reads = keys.count <= 4 ? keys.map { IPVSAdm.shell(IPVSAdm.readThresholds(of: $0)) } : [IPVSAdm.readThresholds]
        return "echo '\(HostMarker.ipvs) thresholds'\n" + reads.map { $0 + " 2>&1\n" }.joined() + "echo '\(HostMarker.ipvs) end'\n"
    }

    /// Undoes these records, in the order given (`HostDiff.unwanted`: newest first). The caller
    /// read the host's records under the lock it still holds, so it names exactly what is there;
    /// a record already gone is passed over.
    public static func undo(_ records: [HostOutput.Record]) -> String {
        records.isEmpty ? "" : "lvsctl_undo_keys '\(records.map(\.key).joined(separator: " "))'\n"
    }

    /// An active-active director stops announcing before anything else of it is undone: its bird
    /// record first (bird stopped, the routers drop its paths at once), so that no flow still
    /// arrives once its IPVS services are gone (the VIP on `lo` would answer them with resets).
    /// Nothing on other hosts.
    public static let undoAnnouncementsFirst = "lvsctl_undo_keys '\(BirdConfig.resourceID.recordKey)'\n"

    /// Undoes every record, newest first; with `forgetWhenEmpty`, removes lvsctl's folder once
    /// nothing is recorded (as `down` leaves it).
    public static func undoAll(forgetWhenEmpty: Bool) -> String {
        "lvsctl_undo_all\n" + (forgetWhenEmpty ? "lvsctl_forget\n" : "")
    }

    /// The cluster's hosts and how to reach them (JSON lines), for runs after this one to find a
    /// host the inventory no longer names. Written only when it differs (most `up`s keep the same
    /// hosts: a `cmp` instead of a `cat` and a `mv` on every host), by the shell's own `printf`.
    public static func writeCluster(_ lines: [String]) -> String {
        """
        lvsctl_cluster=\(ShellQuote.quote(lines.joined(separator: "\n")))
        if [ ! -f "$S/cluster" ] || ! printf '%s\\n' "$lvsctl_cluster" | cmp -s - "$S/cluster"; then
          printf '%s\\n' "$lvsctl_cluster" > "$S/cluster.new" && mv "$S/cluster.new" "$S/cluster"
        fi

        """
    }

    /// Helpers every conversation starts with. Times come from /proc/uptime in hundredths of a
    /// second, reported in milliseconds; the bookkeeping around a step starts no process
    /// (`clock` sets `ticks`; `report` prints a marker line ending in the milliseconds since `t0`).
    static let prologue = prologueOwn + lookups

    static let prologueOwn = #"""
    set -u
    umask 022
    trap '' PIPE
    S=\#(stateDirectory)
    T=$(mktemp -d) || { echo "\#(HostMarker.fatal) cannot create a temporary folder (mktemp failed: is /tmp writable?)"; exit 0; }
    trap 'rm -rf "$T"' EXIT
    clock() { read -r up _ < /proc/uptime; ticks=${up%.*}${up#*.}; }
    report() { clock; echo "$1 $(( (ticks - t0) * 10 ))"; }
    short() { short=$1; [ ${#1} -le 60 ] || short=${1%"${1#????????????????????????????????????????????????????????????}"}; }
    # $1 -x (change) or -s (read), $2 seconds to wait, $3 who we are (for a run that finds it taken).
    # The lock is fd 9 of this shell; every step runs with fd 9 closed, or a daemon it starts (a
    # web server) would hold the lock for good.
    lvsctl_lock() {
      command -v flock >/dev/null 2>&1 || { echo "\#(HostMarker.fatal) flock (util-linux) is missing: lvsctl needs it to keep two runs apart"; exit 0; }
      lock_wait=$2
      for attempt in \#((1...lockAttempts).map(String.init).joined(separator: " ")); do
        exec 9>>"$S/lock" || { echo "\#(HostMarker.fatal) cannot open $S/lock"; exit 0; }
        if [ "$lock_wait" -gt 0 ]; then flock "$1" -w "$lock_wait" 9; else flock "$1" -n 9; fi || {
          owner=; holder=; { read -r owner; read -r holder; } < "$S/lock" 2>/dev/null
          # Gone at the first look: the holder ended between our try and our look (a killed
          # run's shell finishing its part), or has not yet written who it is. Try again in a
          # moment, without waiting: the lock is free then, or its new holder is seen as a run.
          # (A holder seen alive that ends while watched below is another run, and refuses us.)
          if [ $attempt -lt \#(lockAttempts) ] && { [ -z "$holder" ] || [ ! -r "/proc/$holder/status" ]; }; then
            lock_wait=0; sleep 0.2; continue
          fi
          # A run just killed is not an orphan at once: its session ends only once sshd sees the
          # connection gone, through a jump host a moment later. Give a live holder that moment
          # (at most \#(HostScript.orphanGrace) s) before calling it another run.
          i=0
          while [ $i -lt \#(HostScript.orphanGrace * 5) ] && [ -n "$holder" ] && [ -r "/proc/$holder/status" ] && ! lvsctl_orphan "$holder"; do
            sleep 0.2; i=$((i + 1))
          done
          # A run whose lvsctl is gone (killed, its connection lost) leaves its shell finishing
          # the part it had: it keeps nobody out for long, so wait for it, bounded, and say so.
          if lvsctl_orphan "$holder"; then
            clock; t0=$ticks
            flock "$1" -w \#(HostScript.orphanWait) 9 || { echo "\#(HostMarker.locked) ${owner:-another lvsctl run} (its lvsctl is gone, but its shell still runs after \#(HostScript.orphanWait) s)"; exit 0; }
            report "\#(HostMarker.waited) ${owner:-another lvsctl run}"
          else
            echo "\#(HostMarker.locked) ${owner:-another lvsctl run}"; exit 0
          fi
        }
        # down removes the lock file with the state folder: a lock on a file no longer there
        # keeps nobody out, so take the one there now.
        [ "$S/lock" -ef /proc/$$/fd/9 ] && break
        exec 9>&-
      done
      printf '%s\n%s\n' "$3" "$$" > "$S/lock"
    }
    # Whether shell $1 (a lock holder) has lost its lvsctl: no sshd among its ancestors any more
    # (the session process ends with the connection, and the shell is handed to init).
    lvsctl_orphan() {
      p=$1
      while [ -n "$p" ] && [ "$p" -gt 1 ] 2>/dev/null && [ -r "/proc/$p/status" ]; do
        name=; parent=
        while read -r k v; do case $k in Name:) name=$v ;; PPid:) parent=$v; break ;; esac; done < "/proc/$p/status"
        # OpenSSH 9.8 and later run a session as sshd-session.
        case $name in sshd|sshd-session) return 1 ;; esac
        p=$parent
      done
      [ -n "$1" ] && [ -r "/proc/$1/status" ]
    }
    # Every record's order, identity and last applied value, as KEY/FILE:LINE, read by one grep
    # however many there are (a record without `order` is not whole, and not read as one).
    lvsctl_records() {
      [ -d "$S/r" ] || return 0
      echo '\#(HostMarker.records)'
      (cd "$S/r" && grep -H '' -- */order */id */applied 2>/dev/null)
      echo '\#(HostMarker.records) end'
    }
    # A record is made in $S/r/KEY ($rec: the caller writes prior and undo into it) and is whole
    # once record_commit writes its order, last: a rename per record was a process per change on
    # every host. Its key goes to $S/making before its folder exists, so that the next changing
    # run removes what a killed one left half-made (lvsctl_unmade) without looking at every
    # record; the list is emptied once this part's records are whole. Shell builtins where they
    # do: a fork costs ~40 ms under emulation, and every step does this. The folders of a part's
    # resources ($lvsctl_record_keys) are made by one mkdir at the first that changes, and those
    # no change used go together when the part's resources are done (lvsctl_premade_done).
    lvsctl_record_keys=; lvsctl_premade=
    record_begin() {
      rec="$S/r/$1"
      case " $lvsctl_record_keys " in
        *" $1 "*) [ -n "$lvsctl_premade" ] || lvsctl_premake || return 1; [ ! -d "$rec" ] || return 0 ;;
      esac
      echo "$1" >> "$S/making" && { [ ! -e "$rec" ] || rm -rf "$rec"; } && mkdir -p "$rec"
    }
    lvsctl_premake() {
      lvsctl_premade=1; set --
      for k in $lvsctl_record_keys; do [ -e "$S/r/$k" ] || { echo "$k" >> "$S/making" && set -- "$@" "$S/r/$k"; } || return 1; done
      [ $# -eq 0 ] || mkdir -p "$@"
    }
    lvsctl_premade_done() {
      [ -z "$lvsctl_premade" ] || lvsctl_unmade rmdir 2>/dev/null
      lvsctl_record_keys=; lvsctl_premade=
    }
    # The folders listed in $S/making that are not whole records, removed by $1: a killed run's
    # half-made ones by `rm -rf` (the opening), this part's premade ones no change used, empty,
    # by `rmdir`. The list is emptied once they are gone.
    lvsctl_unmade() {
      remove=$1; set --
      while read -r k; do record_whole "$k" || [ ! -e "$S/r/$k" ] || set -- "$@" "$S/r/$k"; done < "$S/making"
      { [ $# -eq 0 ] || $remove "$@"; } && : > "$S/making"
    }
    # Whether KEY's record is whole: its order, written last, is there.
    record_whole() { [ -s "$S/r/$1/order" ]; }
    # $1 key, $2 identity
    record_commit() {
      n=0; [ -f "$S/seq" ] && read -r n < "$S/seq"; n=$((n + 1)); echo "$n" > "$S/seq"
      printf '%s\n' "$2" > "$rec/id" && echo "$n" > "$rec/order" && { [ -n "$lvsctl_premade" ] || : > "$S/making"; }
    }
    record_applied() {
      record_whole "$1" || return 0
      a=; [ -f "$S/r/$1/applied" ] && read -r a < "$S/r/$1/applied"
      [ "$a" = "$2" ] || printf '%s\n' "$2" > "$S/r/$1/applied"
    }
    # Runs a record's undo with its prior state in $prior, then renames the record away. A
    # record without prior had nothing before lvsctl (a service lvsctl created).
    record_undo() {
      d="$S/r/$1"; id=; read -r id < "$d/id"; echo "\#(HostMarker.undoID) $1 $id"
      clock; t0=$ticks
      prior=; [ ! -f "$d/prior" ] || while IFS= read -r line || [ -n "$line" ]; do prior="$prior$line
    "; done < "$d/prior"; prior=${prior%
    }
      if ( . "$d/undo" ) 9>&- > "$T/e" 2>&1; then
        net_gen=$((net_gen + 1))
        { [ -d "$S/tmp" ] || mkdir "$S/tmp"; } && mv "$d" "$S/tmp/gone-$1"
        report "\#(HostMarker.undo) $1 \#(StepStatus.restored)"
      else
        report "\#(HostMarker.undo) $1 \#(StepStatus.failed)"; sed "s/^/\#(HostMarker.undoError) $1 /" "$T/e"
      fi
    }
    lvsctl_undo_keys() {
      for k in $1; do [ ! -d "$S/r/$k" ] || record_undo "$k"; done
    }
    lvsctl_undo_all() {
      [ -d "$S/r" ] || return 0
      : > "$T/order"
      for d in "$S"/r/*/; do
        [ -f "${d}undo" ] || continue
        k=${d%/}; k=${k##*/}
        n=0; read -r n < "${d}order"; echo "$n $k" >> "$T/order"
      done
      sort -rn "$T/order" > "$T/undo-order"
      while read -r n k; do record_undo "$k"; done < "$T/undo-order"
    }
    # Recorded IPVS services undone together ($1: their record keys; stdin: a -D line for each
    # one the table still has): one ipvsadm -R deletes them all and reads each record's prior
    # lines (what was there before lvsctl) after them, instead of processes per record. Should
    # the kernel refuse any of it, each record's own undo runs instead (undos run again safely).
    gone=0
    lvsctl_undo_ipvs() {
      keys=$1; clock; t0=$ticks
      cat > "$T/ipvs-undo"
      # Record keys are words of [a-z0-9.-]: expanded unquoted, in the records' folder, they are
      # the paths (a list built up in the shell would be copied whole at each key). A record
      # without prior (a service lvsctl created) has nothing to put back.
      if (cd "$S/r" && for k in $keys; do [ ! -f "$k/prior" ] || echo "$k/prior"; done | xargs -r cat) >> "$T/ipvs-undo" 2>"$T/e" &&
         ipvsadm -R < "$T/ipvs-undo" 2>"$T/e" && [ ! -s "$T/e" ]; then
        gone=$((gone + 1)); g="$S/tmp/gone-ipvs-$gone"; mkdir -p "$g"
        clock; ms=$(( (ticks - t0) * 10 ))
        for k in $keys; do id=; read -r id < "$S/r/$k/id"; echo "\#(HostMarker.undoID) $k $id"; done
        if (cd "$S/r" && mv $keys "$g/") 2>"$T/e"; then status=\#(StepStatus.restored); else status=\#(StepStatus.failed); fi
        for k in $keys; do echo "\#(HostMarker.undo) $k $status $ms"; [ $status = \#(StepStatus.restored) ] || sed "s/^/\#(HostMarker.undoError) $k /" "$T/e"; done
      else
        for k in $keys; do [ ! -d "$S/r/$k" ] || record_undo "$k"; done
      fi
    }
    # Nothing recorded any more: lvsctl's folder goes back to how lvsctl found it.
    lvsctl_forget() {
      for d in "$S"/r/*/; do [ -f "${d}undo" ] && return 0; done
      rm -rf "$S/r" "$S/tmp" "$S/www" "$S/seq" "$S/making" "$S/cluster" "$S/cluster.new"
      if [ -e "$S/.created" ]; then rm -rf "$S"; else rm -f "$S/lock"; fi
    }
    # A failed step: what it printed, then the conversation ends (later steps may depend on it).
    step_failed() {
      report "\#(HostMarker.step) $1 \#(StepStatus.failed)"; echo "($2)" >> "$T/e"; sed "s/^/\#(HostMarker.err) $1 /" "$T/e"
      exit 0
    }

    """#

    /// Look-ups a template's check may call (`lvsctl_listening`, `lvsctl_has_address`,
    /// `lvsctl_has_route`): each reads the host's state once and answers from files in $T.
    /// Part of every conversation, and of a script `render` writes whose checks call them.
    /// Expects $T (a private temporary folder); whatever changes the host bumps `net_gen`.
    public static let lookups = #"""
    # Whether something listens on $1 (tcp or udp) port $2 (the listening template's check): ss
    # runs once per protocol for the whole conversation and leaves a file per listening port,
    # so each check is one look-up (a real server checks every port of every service).
    lvsctl_listening() {
      [ -d "$T/listening-$1" ] || { mkdir "$T/listening-$1" &&
        ss -Hln -A "$1" 2>/dev/null | awk -v d="$T/listening-$1" '{ n = split($4, a, ":"); f = d "/" a[n]; printf "" > f; close(f) }'; }
      [ -e "$T/listening-$1/$2" ]
    }
    # Whether device $1 has address $2 (the address template's check), and whether family $1
    # (-4 or -6) routes host $2 through device $3, or through any with $3 empty (the host-route
    # template's): ip lists them once per generation, and each check is a look-up of a file
    # (a network's / becomes _ in its name).
    # A generation lasts until a step changes something (every apply and undo starts the next).
    # A real server checks an address and a route for every VIP, and `ip … | grep` cost two
    # processes a check (~70 ms under emulation).
    net_gen=0
    # The check right after an apply ($lvsctl_recheck set) is of that one address or route: ip
    # asked for it alone is one process, where reading them all again is two.
    lvsctl_has_address() {
      if [ -n "${lvsctl_recheck:-}" ]; then
        case "$(ip -o addr show dev "$1" 2>/dev/null)" in *" $2/"*) return 0 ;; esac
        return 1
      fi
      [ -e "$T/addresses-$net_gen" ] || { : > "$T/addresses-$net_gen"
        ip -o addr show 2>/dev/null | awk -v p="$T/addresses-$net_gen@" '{ split($4, a, "/"); f = p $2 "@" a[1]; printf "" > f; close(f) }'; }
      [ -e "$T/addresses-$net_gen@$1@$2" ]
    }
    lvsctl_has_route() {
      if [ -n "${lvsctl_recheck:-}" ]; then
        set -- "$1" "$2" "$3" "$2"; case $4 in *_*) set -- "$1" "$2" "$3" "${4%_*}/${4##*_}" ;; esac
        case " $(ip "$1" route show "$4" 2>/dev/null) " in
          *" dev $3 "*|*" dev $3
    "*) return 0 ;;
          *" dev "*) [ -z "$3" ] ;;
          *) return 1 ;;
        esac
        return
      fi
      [ -e "$T/routes$1-$net_gen" ] || { : > "$T/routes$1-$net_gen"
        ip "$1" route show 2>/dev/null | awk -v p="$T/routes$1-$net_gen@" '{
          to = $1; gsub("/", "_", to)
          for (i = 2; i < NF; i++) if ($i == "dev") { f = p to "@" $(i + 1); printf "" > f; close(f); f = p to "@"; printf "" > f; close(f) } }'; }
      [ -e "$T/routes$1-$net_gen@$2@$3" ]
    }

    """#

    /// A here-document end marker that does not occur in `text`.
    static func delimiter(avoiding text: String) -> String {
        var marker = "LVSCTL_END"
        var n = 0
        while text.contains(marker) { n += 1; marker = "LVSCTL_END_\(n)" }
        return marker
    }
}
