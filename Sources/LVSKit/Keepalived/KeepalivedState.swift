/// What keepalived is doing on one director, read from the director itself: whether it runs,
/// whether it holds the VIP (the VRRP master does), and the recent VRRP and checker events of
/// its log, each with its time. One script out, one parser back.
public struct KeepalivedState: Codable, Sendable, Equatable {
    public var host: String
    public var running = false
    /// Holds the first VIP: the VRRP master (or the only director, where lvsctl adds the VIP).
    public var holdsVIP = false
    /// Whether keepalived speaks VRRP here (false: health checks only, the VIP is lvsctl's).
    public var vrrp = true
    /// Log lines worth an operator's eye, oldest first: `(time, text)`.
    public var events: [Event] = []

    public struct Event: Codable, Sendable, Equatable {
        public var time: String
        public var text: String
        public init(time: String, text: String) {
            self.time = time
            self.text = text
        }
    }

    public init(host: String) { self.host = host }

    /// MASTER, BACKUP or FAULT as keepalived last said; "stopped" when it does not run;
    /// "running" without VRRP, where no director is master of anything.
    public var role: String {
        guard running else { return "stopped" }
        guard vrrp else { return "running" }
        if holdsVIP { return "MASTER" }
        let last = events.last { $0.vrrpState != nil }?.vrrpState
        return last == nil || last == "MASTER" ? "BACKUP" : last!
    }

    /// When the director last entered the state it is in.
    public var since: String? {
        events.last { $0.vrrpState == role }?.time
    }

    /// When the checker last removed (`up: false`) or added (`up: true`) a real server.
    public func lastChange(of destination: String, up: Bool) -> String? {
        let verb = up ? "Adding service [" : "Removing service ["
        return events.last { $0.text.contains(verb + Self.bracketed(destination)) }?.time
    }

    /// `10.0.0.11:80` → `10.0.0.11]:tcp:80` is keepalived's spelling; match on the address.
    static func bracketed(_ destination: String) -> String {
        if destination.hasPrefix("[") { return String(destination.dropFirst().prefix { $0 != "]" }) }
        return String(destination.prefix { $0 != ":" })
    }

    /// The script a director runs: `@@keepalived` lines only. `vip`: the address whose holder is master.
    public static func script(vip: IPAddress, runDirectory: String = "/var/lib/lvsctl/keepalived") -> String {
        """
        if test -d /run/systemd/system; then
          systemctl is-active -q keepalived 2>/dev/null && echo '@@keepalived running'
          log=$(journalctl -u keepalived -n 400 --no-pager -o short-iso 2>/dev/null)
        else
          kill -0 "$(cat \(runDirectory)/keepalived.pid 2>/dev/null)" 2>/dev/null && echo '@@keepalived running'
          log=$(tail -n 400 \(runDirectory)/keepalived.log 2>/dev/null)
        fi
        \(holdsVIPScript(vip: vip))
        printf '%s\\n' "$log" | grep -E 'Entering (MASTER|BACKUP|FAULT) STATE|(Adding|Removing) (service|sorry server)|Stopping|Starting Keepalived' \\
          | tail -n 40 | sed 's/^/@@keepalived event /'
        true
        """
    }

    /// The part of `script` that says whether this director holds `vip` (`status --watch` runs
    /// it alone, every refresh).
    public static func holdsVIPScript(vip: IPAddress) -> String {
        "ip -o addr show 2>/dev/null | grep -q ' \(vip)/' && echo '@@keepalived holds-vip'"
    }

    /// Reads what `script` printed.
    public static func parse(_ output: String, host: String) -> KeepalivedState {
        var state = KeepalivedState(host: host)
        for line in output.split(separator: "\n") where line.hasPrefix("@@keepalived ") {
            let rest = line.dropFirst("@@keepalived ".count)
            if rest == "running" { state.running = true }
            else if rest == "holds-vip" { state.holdsVIP = true }
            else if rest.hasPrefix("event ") { state.events.append(Event(line: String(rest.dropFirst(6)))) }
        }
        return state
    }
}

extension KeepalivedState.Event {
    /// `Thu Nov 26 12:45:14 2026: (lvsctl) Entering MASTER STATE` (keepalived's console log) or
    /// `2026-11-26T12:45:14+0000 host Keepalived_vrrp[42]: …` (the journal).
    init(line: String) {
        if let colon = line.range(of: ": "), line[..<colon.lowerBound].count == 24 {
            self.init(time: String(line[..<colon.lowerBound]), text: String(line[colon.upperBound...]))
        } else if let space = line.firstIndex(of: " "), line.first?.isNumber == true, let colon = line.range(of: "]: ") {
            self.init(time: String(line[..<space]), text: String(line[colon.upperBound...]))
        } else {
            self.init(time: "", text: line)
        }
    }

    /// MASTER, BACKUP or FAULT when the line is a VRRP state change.
    var vrrpState: String? {
        for state in ["MASTER", "BACKUP", "FAULT"] where text.contains("Entering \(state) STATE") { return state }
        return nil
    }
}

extension VirtualService {
    /// The service as keepalived holds it in `live` (the master's table): the real servers its
    /// checkers keep (with their inventory weight; weight 0 for one inhibited while down), or the
    /// sorry server alone while none is up. What `verify` judges answers and the table against.
    public func heldByKeepalived(_ live: IPVSTable) -> VirtualService {
        var held = self
        guard let service = live.service(key) else { return held }
        held.realServers = realServers.compactMap { server in
            guard let destination = service.destination(server.endpoint) else { return nil }
            var server = server
            if destination.weight == 0, healthCheck?.inhibitOnFailure == true { server.weight = 0 }
            return server
        }
        if held.realServers.isEmpty, let sorry = sorryServer, service.destination(sorry.endpoint) != nil {
            held.realServers = [sorry.asRealServer]
        }
        held.sorryServer = nil
        return held
    }
}
