import Foundation
import SSHTransport

extension Lab {
    /// Builds the hosts. Labs left behind by a process that died are removed first.
    public static func create(_ specs: [LabHostSpec]) async throws -> Lab {
        precondition(!specs.isEmpty && specs.count <= 250, "a lab has 1 to 250 hosts")
        precondition(Set(specs.map(\.name)).count == specs.count, "lab host names must be unique")
        try FileManager.default.createDirectory(atPath: stateRoot, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        await reapAbandoned()
        let (index, directory) = try claimSubnet()
        let password = "lab-" + UUID().uuidString.prefix(12).lowercased()
        let names = specs.map { "lvs\(index)-\($0.name)" }
        // Written first, so a lab that fails half-way (or whose process dies) can still be removed.
        try teardownScript(index: index, directory: directory, namespaces: names)
            .write(toFile: directory + "/teardown.sh", atomically: true, encoding: .utf8)
        do {
            try await Shell.bashChecked(setupScript(index: index, directory: directory, specs: specs, password: password),
                                        what: "building lab hosts")
            let hosts = try specs.enumerated().map { offset, spec in
                try loadHost(spec, number: offset + 1, index: index, directory: directory)
            }
            return Lab(index: index, directory: directory, hosts: hosts, rootPassword: password)
        } catch {
            _ = try? await Shell.bash("bash \(Shell.quote(directory + "/teardown.sh"))")
            throw error
        }
    }

    /// Claims a free 10.200.K.0/24 by creating its state folder (mkdir is atomic across
    /// processes) and checking no route on this machine already uses it.
    private static func claimSubnet() throws -> (Int, String) {
        for index in 1...250 {
            let directory = "\(stateRoot)/net\(index)"
            guard mkdir(directory, 0o755) == 0 else { continue }
            let routes = (try? String(contentsOfFile: "/proc/net/route", encoding: .utf8)) ?? ""
            // /proc/net/route lists destinations as little-endian hex: 10.200.K.0 -> 00KKC80A
            let hex = String(format: "00%02XC80A", index)
            if routes.contains(hex) { continue }   // keep the folder: that subnet is taken
            try String(getpid()).write(toFile: directory + "/owner.pid", atomically: true, encoding: .utf8)
            return (index, directory)
        }
        throw LabError("no free lab subnet in 10.200.1-250.0/24 (remove stale labs in \(stateRoot))")
    }

    /// Tears down labs whose owning process is gone (a test run killed mid-way).
    static func reapAbandoned() async {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: stateRoot) else { return }
        for entry in entries where entry.hasPrefix("net") {
            let directory = "\(stateRoot)/\(entry)"
            guard let text = try? String(contentsOfFile: directory + "/owner.pid", encoding: .utf8),
                  let owner = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                  kill(owner, 0) != 0 && errno == ESRCH else { continue }
            _ = try? await Shell.bash("bash \(Shell.quote(directory + "/teardown.sh")); rm -rf \(Shell.quote(directory))")
        }
    }

    private static func loadHost(_ spec: LabHostSpec, number: Int, index: Int, directory: String) throws -> LabHost {
        let folder = "\(directory)/\(spec.name)"
        let pidText = try String(contentsOfFile: folder + "/sshd.pid", encoding: .utf8)
        guard let pid = Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw LabError("sshd of lab host \(spec.name) wrote no PID")
        }
        let keys = try spec.hostKeyTypes.map { type -> PublicKeyBlob in
            let line = try String(contentsOfFile: "\(folder)/ssh_host_\(type)_key.pub", encoding: .utf8)
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let blob = PublicKeyBlob(base64: fields[1]) else {
                throw LabError("cannot read the \(type) host key of \(spec.name)")
            }
            return blob
        }
        return LabHost(name: spec.name, address: "10.200.\(index).\(number)", sshPort: spec.sshPort,
                       namespace: "lvs\(index)-\(spec.name)", sshdPID: pid, hostKeys: keys)
    }

    private static func teardownScript(index: Int, directory: String, namespaces: [String]) -> String {
        """
        # Lab \(index): kill every process in its namespaces by PID, then remove them.
        for ns in \(namespaces.joined(separator: " ")); do
          pids=$(ip netns pids "$ns" 2>/dev/null)
          [ -z "$pids" ] || kill -KILL $pids 2>/dev/null
          for i in 1 2 3 4 5 6 7 8 9 10; do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break; sleep 0.05; done
          ip netns delete "$ns" 2>/dev/null
        done
        ip link delete lvsbr\(index) 2>/dev/null
        rm -rf \(Shell.quote(directory))
        true

        """
    }

    private static func setupScript(index: Int, directory: String, specs: [LabHostSpec], password: String) -> String {
        let net = "10.200.\(index)"
        var script = """
        set -euo pipefail
        D=\(Shell.quote(directory))
        mkdir -p /run/sshd /srv /var/lib/lvsctl
        ip link add lvsbr\(index) type bridge
        ip link set lvsbr\(index) up
        ip addr add \(net).254/24 dev lvsbr\(index)
        ssh-keygen -q -t ed25519 -N '' -C lvsctl-lab -f "$D/id_ed25519"
        cp "$D/id_ed25519.pub" "$D/authorized_keys"; chmod 644 "$D/authorized_keys"
        : > "$D/known_hosts"
        HASH=$(openssl passwd -6 \(Shell.quote(password)))
        awk -F: -v OFS=: -v h="$HASH" '$1=="root"{$2=h} 1' /etc/shadow > "$D/shadow"; chmod 600 "$D/shadow"

        """
        for (offset, spec) in specs.enumerated() {
            let ns = "lvs\(index)-\(spec.name)", address = "\(net).\(offset + 1)", folder = "$D/\(spec.name)"
            let hostName = spec.sshPort == 22 ? address : "[\(address)]:\(spec.sshPort)"
            script += """
            # --- \(spec.name): \(address)
            ip netns add \(ns)
            # No duplicate-address detection: a host must be in its steady state when handed out,
            # not still turning its IPv6 link-local address from tentative to valid.
            ip netns exec \(ns) sh -c 'echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad; echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad'
            ip -n \(ns) link set lo up
            ip link add lvs\(index)h\(offset + 1) type veth peer name eth0 netns \(ns)
            ip link set lvs\(index)h\(offset + 1) master lvsbr\(index) up
            ip -n \(ns) addr add \(address)/24 dev eth0
            ip -n \(ns) link set eth0 up
            mkdir -p "\(folder)"

            """
            for type in spec.hostKeyTypes {
                script += """
                ssh-keygen -q -t \(type) -N '' -C \(spec.name) -f "\(folder)/ssh_host_\(type)_key"
                awk '{print "\(hostName)", $1, $2}' "\(folder)/ssh_host_\(type)_key.pub" >> "$D/known_hosts"

                """
            }
            script += """
            cat > "\(folder)/sshd_config" <<EOF
            ListenAddress \(address):\(spec.sshPort)
            \(spec.hostKeyTypes.map { "HostKey \(folder)/ssh_host_\($0)_key" }.joined(separator: "\n"))
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
            LogLevel \(spec.logLevel)
            EOF
            ip netns exec \(ns) unshare --mount --uts --propagation private /bin/sh -c '
              hostname \(spec.name)
              mount -t tmpfs -o mode=0700 tmpfs /root
              mount -t tmpfs -o mode=0755 tmpfs /srv
              mount -t tmpfs -o mode=0755 tmpfs /var/lib/lvsctl
              : > /root/.bashrc; : > /root/.profile
              mount --bind "$0/shadow" /etc/shadow
              exec /usr/sbin/sshd -f "$1/sshd_config" -E "$1/sshd.log"' "$D" "\(folder)"
            for i in $(seq 1 200); do [ -s "\(folder)/sshd.pid" ] && break; sleep 0.02; done
            [ -s "\(folder)/sshd.pid" ] || { echo "sshd of \(spec.name) did not start:" >&2; cat "\(folder)/sshd.log" >&2; exit 1; }

            """
        }
        return script
    }
}
