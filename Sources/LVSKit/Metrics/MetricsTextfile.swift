/// What only lvsctl knows about a director's table, in Prometheus' text format, for node
/// exporter's textfile collector: the services the inventory asks for and the weight it wants
/// for each real server (0: drained). node exporter's own ipvs collector gives the live side
/// (`node_ipvs_backend_weight`, connections active and inactive), and both carry the same
/// labels, so a query can join them: a real server the inventory wants and the table lacks is
/// one keepalived's health check took out.
public enum MetricsTextfile {
    /// Debian's prometheus-node-exporter reads this folder by default
    /// (`--collector.textfile.directory`).
    public static let directory = "/var/lib/prometheus/node-exporter"
    public static let path = directory + "/lvsctl.prom"
    /// What keepalived's notify script writes: the director's VRRP state.
    public static let vrrpPath = directory + "/lvsctl-vrrp.prom"
    /// keepalived's notify script for the VRRP instance (keepalived wants it, and the folders
    /// above it, writable by root only: /var/lib/lvsctl is 700).
    public static let vrrpNotifyPath = "/var/lib/lvsctl/vrrp-notify"

    /// The notify script: keepalived runs it as the instance changes state (`INSTANCE`, its name,
    /// the new state), and it writes the state as `lvsctl_vrrp_state`, one series per state, the
    /// one the director is in at 1. Written under another name, then renamed: node exporter never
    /// reads half a file. Only while lvsctl's own file is there (metrics still wanted).
    public static let vrrpNotifyScript = """
        #!/bin/sh
        # Written by lvsctl: keepalived's notify for the VRRP instance, for node exporter's textfile collector.
        test "$1" = INSTANCE && test -e \(path) || exit 0
        {
          echo '# HELP lvsctl_vrrp_state 1 for the VRRP state the director is in (keepalived notify).'
          echo '# TYPE lvsctl_vrrp_state gauge'
          for state in MASTER BACKUP FAULT; do
            if test "$state" = "$3"; then value=1; else value=0; fi
            printf 'lvsctl_vrrp_state{instance="%s",state="%s"} %s\\n' "$2" "$state" "$value"
          done
        } > \(directory)/.lvsctl-vrrp.prom.$$ &&
        # keepalived runs scripts with umask 077; Debian's exporter reads as user prometheus.
        chmod 644 \(directory)/.lvsctl-vrrp.prom.$$ && mv -f \(directory)/.lvsctl-vrrp.prom.$$ \(vrrpPath)
        """

    /// The metric names, with their help text, in the order the file gives them.
    public static let families: [(name: String, help: String)] = [
        ("lvsctl_service_info", "A virtual service lvsctl keeps on this director (always 1; scheduler and forwarding in labels)."),
        ("lvsctl_backend_desired_weight", "The weight the inventory gives a real server (node_ipvs_backend_weight is the live one)."),
        ("lvsctl_backend_draining", "1 when the inventory drains a real server (weight 0): it takes no new connections."),
    ]

    public static func content(_ desired: DesiredCluster) -> String {
        var samples: [String: [String]] = [:]
        for service in desired.ipvsServices {
            let local = labels(service.key)
            samples["lvsctl_service_info", default: []].append(
                sample("lvsctl_service_info", local + [("scheduler", service.scheduler), ("forwarding", desired.inventory.mode.rawValue)], 1))
            for destination in service.destinations {
                let labels = labels(service.key, remote: destination.endpoint)
                samples["lvsctl_backend_desired_weight", default: []].append(sample("lvsctl_backend_desired_weight", labels, destination.weight))
                samples["lvsctl_backend_draining", default: []].append(sample("lvsctl_backend_draining", labels, destination.weight == 0 ? 1 : 0))
            }
        }
        return families.flatMap { family in
            ["# HELP \(family.name) \(family.help)", "# TYPE \(family.name) gauge"] + (samples[family.name] ?? [])
        }.joined(separator: "\n")
    }

    /// A service's labels (and a real server's, with `remote`) as node exporter's ipvs collector
    /// writes them from /proc/net/ip_vs: a firewall mark as eight upper-case hex digits, with no
    /// address and port 0.
    public static func labels(_ key: IPVSServiceKey, remote: Endpoint? = nil) -> [(String, String)] {
        let service = serviceLabels(key)
        guard let remote else { return service }
        return service + [("remote_address", remote.address.description), ("remote_port", String(remote.port))]
    }

    private static func serviceLabels(_ key: IPVSServiceKey) -> [(String, String)] {
        switch key {
        case let .tcp(address, port): return socketLabels(address, port, "TCP")
        case let .udp(address, port): return socketLabels(address, port, "UDP")
        case let .sctp(address, port): return socketLabels(address, port, "SCTP")
        case let .fwmark(mark, _):
            let hex = String(mark, radix: 16, uppercase: true)
            return [("local_address", ""), ("local_port", "0"), ("local_mark", String(repeating: "0", count: max(0, 8 - hex.count)) + hex),
                    ("proto", "FWM")]
        }
    }

    private static func socketLabels(_ address: IPAddress, _ port: Int, _ proto: String) -> [(String, String)] {
        [("local_address", address.description), ("local_port", String(port)), ("local_mark", ""), ("proto", proto)]
    }

    /// One line; label values here are addresses, numbers and lvsctl's own words, none of which
    /// holds a quote or a backslash, so they need no escaping.
    private static func sample(_ name: String, _ labels: [(String, String)], _ value: Int) -> String {
        "\(name){" + labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") + "} \(value)"
    }
}
