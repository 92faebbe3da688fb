import LVSKit

/// The requests `verify` sends from the client, as one shell script, and their answers read
/// back. Every request is a new connection (TCP) or a new socket (UDP), so the scheduler meets
/// each; a service whose scheduler or persistence keys on the client's address is asked from
/// every address the client has towards the VIP.
public enum VerifyRequests {
    /// One answer: which service (by index), from which source address ("-": the default), the
    /// body (empty: no answer).
    public struct Answer: Equatable, Sendable {
        public var service: Int
        public var source: String
        public var body: String
    }

    /// Services verify can send to: a port, or a firewall mark with the ports it groups.
    public static func verifiable(_ inventory: Inventory) -> [VirtualService] {
        inventory.services.filter { !$0.clientPorts.isEmpty }
    }

    /// Whether the service's answers depend on the client's address.
    public static func keyedOnSource(_ service: VirtualService) -> Bool {
        service.persistence != nil || [.sh, .mh].contains(service.scheduler)
    }

    /// Ports to send to: a port-0 service (every port) is asked on 80.
    static func ports(_ service: VirtualService) -> [Int] { service.clientPorts.map { $0 == 0 ? 80 : $0 } }

    public static func script(_ services: [VirtualService], requests: Int, severalSources: Bool) -> String {
        var script = """
        # One connection per request: a tool that fails is not retried with another (a retry
        # would be a second connection the scheduler counts). $1: source address or -, then the
        # URLs. Each answer ends with a line \(HostMarker.end). curl fetches them all in one process
        # (one curl per request costs ~0.3 s under emulation); HTTP/1.0 with Connection: close
        # makes each its own connection, and one that fails does not stop the others.
        if command -v curl >/dev/null 2>&1; then
          fetch() {
            if [ "$1" = - ]; then shift; else set -- --interface "$@"; fi
            curl -gs -m 10 --http1.0 -H 'Connection: close' -w '\n\(HostMarker.end)\n' "$@" 2>/dev/null
          }
        else
          # busybox 1.35's wget crashes on -T: its own timeout bounds it instead.
          get() { if command -v wget >/dev/null 2>&1; then wget -qO- -T 10 "$1"; else busybox timeout 10 busybox wget -qO- "$1"; fi 2>/dev/null; }
          fetch() { shift; for url in "$@"; do get "$url"; printf '\n\(HostMarker.end)\n'; done; }
        fi
        # $1 service index, $2 source: fetch's answers, each on one line of at most 300 characters.
        answers() {
          awk -v i="$1" -v s="$2" '$0 == "\(HostMarker.end)" { print "\(HostMarker.answer)", i, s, substr(b, 1, 300); b = ""; next } { b = b $0 " " }'
        }
        # The client's addresses on the interface that reaches $1, or - when only one counts.
        sources() {
          dev=$(ip route get "$1" 2>/dev/null | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p' | head -n 1)
          list=$(ip -o addr show dev "$dev" scope global 2>/dev/null | awk -v v6="$2" '($3 == "inet6") == (v6 == 1) { split($4, a, "/"); print a[1] }')
          echo "${list:--}"
        }
        udp() {
          python3 - "$@" <<'LVSCTL_PY'
        import socket, sys
        index, count, source, vip, ports = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5].split(",")
        family = socket.AF_INET6 if ":" in vip else socket.AF_INET
        for n in range(count):
            s = socket.socket(family, socket.SOCK_DGRAM)
            s.settimeout(3)
            try:
                if source != "-":
                    s.bind((source, 0))
                s.sendto(b"lvsctl verify\\n", (vip, int(ports[n % len(ports)])))
                body = s.recv(4096).decode(errors="replace").replace("\\n", " ")[:300]
            except OSError:
                body = ""
            s.close()
            print("\(HostMarker.answer)", index, source, body, flush=True)
        LVSCTL_PY
        }

        """
        for (index, service) in services.enumerated() {
            let several = severalSources && keyedOnSource(service)
            // From several sources, a few requests each (every port in turn); else `requests`.
            let count = several ? max(3, ports(service).count * 2) : requests
            let source = several ? "$(sources \(service.vip) \(service.vip.isV6 ? 1 : 0))" : "-"
            let portList = ports(service).map(String.init)
            let request: String
            if service.transport == .udp {
                request = "udp \(index) \(count) \"$s\" \(service.vip) \(portList.joined(separator: ","))"
            } else {
                let host = service.vip.isV6 ? "[\(service.vip)]" : "\(service.vip)"
                let urls = (0..<count).map { "http://\(host):\(portList[$0 % portList.count])/" }
                request = "fetch \"$s\" \(urls.joined(separator: " ")) | answers \(index) \"$s\""
            }
            script += "for s in \(source); do\n\(request)\ndone\n"
        }
        return script
    }

    public static func parse(_ output: String) -> [Answer] {
        output.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line in
            let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count >= 3, HostMarker(line: fields[0]) == .answer, let index = Int(fields[1]) else { return nil }
            return Answer(service: index, source: String(fields[2]), body: fields.count > 3 ? String(fields[3]).trimmingCharacters(in: .whitespaces) : "")
        }
    }
}
