/// What a lab is made of: network segments (bridges, with this side's router address on each)
/// and hosts with interfaces on them. One generator turns it into the bash that builds it,
/// whether on this machine or inside the lab VM.
public struct LabTopology: Sendable {
    public struct Segment: Sendable {
        public var bridge: String
        /// The router's (this namespace's) address on the segment, with prefix: "10.0.0.254/24".
        public var router: String
        /// The router's IPv6 address on the segment, with prefix, when the segment has IPv6.
        public var router6: String?
        public init(bridge: String, router: String, router6: String? = nil) { self.bridge = bridge; self.router = router; self.router6 = router6 }
    }

    public struct Interface: Sendable {
        public var name: String
        public var segment: Int
        public var address: String   // with prefix
        /// More addresses (with prefix; IPv4 or IPv6) after the first.
        public var extra: [String]
        public init(_ name: String, segment: Int, address: String, extra: [String] = []) {
            self.name = name; self.segment = segment; self.address = address; self.extra = extra
        }
    }

    public struct Host: Sendable {
        public var spec: LabHostSpec
        public var interfaces: [Interface]
        public var gateway: String?
        public var gateway6: String? = nil
        /// Where sshd listens: the first interface's address.
        public var sshAddress: String { String(interfaces[0].address.split(separator: "/")[0]) }
    }

    public var segments: [Segment]
    public var hosts: [Host]
    /// Prefix of namespace and veth names, unique per lab on one machine.
    public var prefix: String

    /// One bridge, hosts .1, .2, … on 10.200.K.0/24 (the test lab); a lab of more than 250
    /// hosts goes on with a bridge per further 250 (a bridge takes at most 1 024 ports), on
    /// 10.201.K.0/24, 10.202.K.0/24 and so on, this side the router of each.
    public static func flat(index: Int, specs: [LabHostSpec]) -> LabTopology {
        let blocks = max(1, (specs.count + flatBlock - 1) / flatBlock)
        return LabTopology(
            segments: (0..<blocks).map { Segment(bridge: $0 == 0 ? "lvsbr\(index)" : "lvsbr\(index)b\($0)", router: "10.\(200 + $0).\(index).254/24") },
            hosts: specs.enumerated().map { offset, spec in
                Host(spec: spec, interfaces: [Interface("eth0", segment: offset / flatBlock, address: flatAddress(index: index, number: offset + 1) + "/24")],
                     gateway: nil)
            },
            prefix: "lvs\(index)")
    }

    /// Hosts per /24 of a flat lab, and the most a flat lab holds: every host is a namespace with
    /// its own sshd on this machine, and 2 000 already take minutes to build.
    static let flatBlock = 250
    /// Past this many hosts the lab raises this side's neighbour table limits.
    static let neighbourCrowd = 250
    /// Where those limits are (gc_thresh1..3), read and written by setup and teardown alike.
    static let neighbourLimits = "/proc/sys/net/ipv4/neigh/default"
    public static let flatMaximum = 2000

    /// Host `number` (from 1) of flat lab `index`: 10.200.K.1 … .250, then 10.201.K.1 …
    static func flatAddress(index: Int, number: Int) -> String {
        "10.\(200 + (number - 1) / flatBlock).\(index).\((number - 1) % flatBlock + 1)"
    }

    /// The seed's LVS topology, one lab for all three modes: a public segment (client,
    /// directors' outer legs) and a private one (directors' DIPs, real servers), with this
    /// namespace routing between them so DR and TUN replies bypass the director. Both segments
    /// also have IPv6 (fd00:1::/64 outside, fd00:2::/64 inside, the same host numbers), and the
    /// client has eight IPv4 addresses (.100–.107): schedulers that hash the source need several.
    public static func lvs(realServers: Int, prefix: String = "lab") -> LabTopology {
        var hosts = [
            Host(spec: LabHostSpec("client"), interfaces: [Interface("eth0", segment: 0, address: "192.168.0.100/24",
                                                                     extra: (101...107).map { "192.168.0.\($0)/24" } + ["fd00:1::100/64"])],
                 gateway: "192.168.0.1", gateway6: "fd00:1::1"),
            Host(spec: LabHostSpec("director"), interfaces: [Interface("eth0", segment: 0, address: "192.168.0.10/24", extra: ["fd00:1::10/64"]),
                                                             Interface("eth1", segment: 1, address: "10.0.0.1/24", extra: ["fd00:2::1/64"])],
                 gateway: "192.168.0.1", gateway6: "fd00:1::1"),
            // The backup of a keepalived pair: the same two segments, the next addresses.
            Host(spec: LabHostSpec("director2"), interfaces: [Interface("eth0", segment: 0, address: "192.168.0.11/24", extra: ["fd00:1::11/64"]),
                                                              Interface("eth1", segment: 1, address: "10.0.0.2/24", extra: ["fd00:2::2/64"])],
                 gateway: "192.168.0.1", gateway6: "fd00:1::1"),
            // Active-active directors three and four (10.0.0.3 is a NAT pair's VRRP gateway); the
            // fourth is the one a running cluster adds and removes.
            Host(spec: LabHostSpec("director3"), interfaces: [Interface("eth0", segment: 0, address: "192.168.0.12/24", extra: ["fd00:1::12/64"]),
                                                              Interface("eth1", segment: 1, address: "10.0.0.4/24", extra: ["fd00:2::4/64"])],
                 gateway: "192.168.0.1", gateway6: "fd00:1::1"),
            Host(spec: LabHostSpec("director4"), interfaces: [Interface("eth0", segment: 0, address: "192.168.0.13/24", extra: ["fd00:1::13/64"]),
                                                              Interface("eth1", segment: 1, address: "10.0.0.5/24", extra: ["fd00:2::5/64"])],
                 gateway: "192.168.0.1", gateway6: "fd00:1::1"),
        ]
        for n in 1...realServers {
            hosts.append(Host(spec: LabHostSpec("rs\(n)"), interfaces: [Interface("eth0", segment: 1, address: "10.0.0.\(10 + n)/24", extra: ["fd00:2::\(10 + n)/64"])],
                              gateway: "10.0.0.254", gateway6: "fd00:2::254"))
        }
        return LabTopology(segments: [Segment(bridge: "br-ext", router: "192.168.0.1/24", router6: "fd00:1::1/64"),
                                      Segment(bridge: "br-int", router: "10.0.0.254/24", router6: "fd00:2::254/64")],
                           hosts: hosts, prefix: prefix)
    }

    func namespace(_ host: Host) -> String { "\(prefix)-\(host.spec.name)" }

    /// This side's end of a host's veth (at most 15 characters: lvs250h250i1).
    func vethName(host number: Int, interface: Int) -> String { "\(prefix)h\(number + 1)i\(interface)" }

    /// Bash that builds the lab in the current network namespace. `$D` is the lab's folder:
    /// keys already there are kept (the VM lab's are made on this machine, where known_hosts is
    /// written); missing ones are generated. `knownHostsName` says how a host is named in
    /// known_hosts (its address and port as the client will dial them).
    func setupScript(directory: String, password: String, knownHostsName: (Host) -> String) -> String {
        var script = """
        set -euo pipefail
        D=\(Shell.quote(directory))
        mkdir -p /run/sshd /srv /var/lib/lvsctl
        [ -f "$D/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C lvsctl-lab -f "$D/id_ed25519"
        [ -f "$D/authorized_keys" ] || { cp "$D/id_ed25519.pub" "$D/authorized_keys"; chmod 644 "$D/authorized_keys"; }
        [ -f "$D/known_hosts" ] || : > "$D/known_hosts"
        HASH=$(openssl passwd -6 \(Shell.quote(password)))
        # Accounts of every lab host (bind-mounted over /etc in its mount namespace): root with the
        # lab password, `lvs` with password-less sudo, `lvspw` whose sudo asks for the lab password.
        awk -F: -v OFS=: -v h="$HASH" '$1=="root"{$2=h} $1!="lvs" && $1!="lvspw"' /etc/shadow > "$D/shadow"
        printf 'lvs:%s:19000:0:99999:7:::\nlvspw:%s:19000:0:99999:7:::\n' "$HASH" "$HASH" >> "$D/shadow"; chmod 600 "$D/shadow"
        grep -v '^lvs' /etc/passwd > "$D/passwd"; printf 'lvs:x:1500:1500::/home/lvs:/bin/sh\nlvspw:x:1501:1501::/home/lvspw:/bin/sh\n' >> "$D/passwd"
        grep -v '^lvs' /etc/group > "$D/group"; printf 'lvs:x:1500:\nlvspw:x:1501:\n' >> "$D/group"
        chmod 644 "$D/passwd" "$D/group"
        printf 'Defaults env_reset\nroot ALL=(ALL:ALL) ALL\nlvs ALL=(ALL:ALL) NOPASSWD: ALL\nlvspw ALL=(ALL:ALL) ALL\n' > "$D/sudoers"; chmod 440 "$D/sudoers"

        """
        if hosts.count > Self.neighbourCrowd {
            // This side talks to every host: past the kernel's default 1 024 neighbour entries
            // (and its eager collection from 512) a host reads "No route to host". Raised for the
            // lab's life, never lowered; teardown puts back what was there.
            script += """
            N=\(Self.neighbourLimits)
            [ -f "$D/neighbour-thresholds" ] || cat $N/gc_thresh1 $N/gc_thresh2 $N/gc_thresh3 > "$D/neighbour-thresholds"
            i=1; for want in \(hosts.count * 2) \(hosts.count * 4) \(hosts.count * 8); do
              read -r now < $N/gc_thresh$i; [ "$now" -ge "$want" ] || echo "$want" > $N/gc_thresh$i; i=$((i + 1))
            done

            """
        }
        for segment in segments {
            script += """
            ip link add \(segment.bridge) type bridge
            ip link set \(segment.bridge) up
            ip addr add \(segment.router) dev \(segment.bridge)
            \(segment.router6.map { "ip addr add \($0) dev \(segment.bridge) nodad" } ?? "")

            """
        }
        for (number, host) in hosts.enumerated() {
            let ns = namespace(host), name = host.spec.name, folder = "$D/\(name)"
            script += """
            # --- \(name)
            ip netns add \(ns)
            # No duplicate-address detection: a host must be in its steady state when handed out,
            # not still turning its IPv6 link-local address from tentative to valid.
            ip netns exec \(ns) sh -c 'echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad'
            ip -n \(ns) link set lo up
            mkdir -p "\(folder)"

            """
            for (i, interface) in host.interfaces.enumerated() {
                let veth = vethName(host: number, interface: i)
                script += """
                ip link add \(veth) type veth peer name \(interface.name) netns \(ns)
                ip link set \(veth) master \(segments[interface.segment].bridge) up
                ip -n \(ns) addr add \(interface.address) dev \(interface.name)
                \(interface.extra.map { "ip -n \(ns) addr add \($0) dev \(interface.name)\($0.contains(":") ? " nodad" : "")" }.joined(separator: "\n"))
                ip -n \(ns) link set \(interface.name) up

                """
            }
            if let gateway = host.gateway { script += "ip -n \(ns) route add default via \(gateway)\n" }
            if let gateway = host.gateway6 { script += "ip -n \(ns) -6 route add default via \(gateway)\n" }
            for type in host.spec.hostKeyTypes {
                script += """
                [ -f "\(folder)/ssh_host_\(type)_key" ] || ssh-keygen -q -t \(type) -N '' -C \(name) -f "\(folder)/ssh_host_\(type)_key"
                awk '{print "\(knownHostsName(host))", $1, $2}' "\(folder)/ssh_host_\(type)_key.pub" >> "$D/known_hosts"

                """
            }
            script += """
            cat > "\(folder)/sshd_config" <<EOF
            ListenAddress \(host.sshAddress):\(host.spec.sshPort)
            \(host.spec.hostKeyTypes.map { "HostKey \(folder)/ssh_host_\($0)_key" }.joined(separator: "\n"))
            PidFile \(folder)/sshd.pid
            AuthorizedKeysFile $D/authorized_keys
            PermitRootLogin yes
            PubkeyAuthentication yes
            PasswordAuthentication yes
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes yes
            UseDNS no
            PrintMotd no
            PrintLastLog no
            MaxSessions 10
            MaxStartups 64:30:128
            Subsystem sftp internal-sftp
            LogLevel \(host.spec.logLevel)
            \(host.spec.sshdOptions.joined(separator: "\n"))
            EOF
            ip netns exec \(ns) unshare --mount --uts --propagation private /bin/sh -c '
              hostname \(name)
              mount -t tmpfs -o mode=0700 tmpfs /root
              mount -t tmpfs -o mode=0755 tmpfs /srv
              mount -t tmpfs -o mode=0755 tmpfs /var/lib/lvsctl
              # keepalived reads /etc/keepalived: each lab host has its own (a director pair
              # shares one filesystem here, and the VM'"'"'s is read-only).
              if [ -d /etc/keepalived ]; then mount -t tmpfs -o mode=0755 tmpfs /etc/keepalived; fi
              # And its own node exporter textfiles (each director writes its VRRP state there).
              if [ -d /var/lib/prometheus/node-exporter ]; then mount -t tmpfs -o mode=0755 tmpfs /var/lib/prometheus/node-exporter; fi
              # And its own /etc/bird (active-active directors each run bird with a file of their own).
              if [ -d /etc/bird ]; then mount -t tmpfs -o mode=0755 tmpfs /etc/bird; fi
              : > /root/.bashrc; : > /root/.profile
              mount -t tmpfs -o mode=0755 tmpfs /home
              mkdir -p /home/lvs /home/lvspw && chown 1500:1500 /home/lvs && chown 1501:1501 /home/lvspw
              for f in shadow passwd group sudoers; do [ -e /etc/$f ] && mount --bind "$0/$f" /etc/$f; done
              # -r: a connection forks the listener without executing sshd again, a quarter less
              # of the lab VM'"'"'s CPU per connection (wall 460 -> 350 ms; tests make hundreds).
              exec /usr/sbin/sshd -r -f "$1/sshd_config" -E "$1/sshd.log"' "$D" "\(folder)"
            for i in $(seq 1 250); do [ -s "\(folder)/sshd.pid" ] && break; sleep 0.02; done
            [ -s "\(folder)/sshd.pid" ] || { echo "sshd of \(name) did not start:" >&2; cat "\(folder)/sshd.log" >&2; exit 1; }

            """
        }
        return script
    }

    /// Bash that removes the lab: every process in its namespaces (by PID), the namespaces, the
    /// bridges, then the folder.
    func teardownScript(directory: String) -> String {
        // A namespace is destroyed asynchronously after `ip netns delete`, and its veths with it:
        // delete our ends first (that is synchronous), so a new lab can reuse the names at once.
        let veths = hosts.enumerated().flatMap { number, host in
            host.interfaces.indices.map { vethName(host: number, interface: $0) }
        }
        return """
        for ns in \(hosts.map(namespace).joined(separator: " ")); do
          pids=$(ip netns pids "$ns" 2>/dev/null)
          [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
          for i in 1 2 3 4 5 6 7 8 9 10; do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break; sleep 0.05; done
          ip netns delete "$ns" 2>/dev/null
        done
        for veth in \(veths.joined(separator: " ")); do ip link delete "$veth" 2>/dev/null; done
        for br in \(segments.map(\.bridge).joined(separator: " ")); do ip link delete "$br" 2>/dev/null; done
        if [ -f \(Shell.quote(directory))/neighbour-thresholds ]; then
          i=1; while read -r old; do echo "$old" > \(Self.neighbourLimits)/gc_thresh$i; i=$((i + 1)); done < \(Shell.quote(directory))/neighbour-thresholds
        fi
        rm -rf \(Shell.quote(directory))
        true

        """
    }
}
