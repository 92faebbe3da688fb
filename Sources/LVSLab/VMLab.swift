import Foundation
import LVSKit
import LVSRunner
import SSHTransport

/// The lab for kernels without IPVS: a qemu VM booting Debian's generic kernel, with this
/// machine's root filesystem read-only over 9p, in which the seed's LVS topology is built as
/// network namespaces with their own sshd. The client and the director are reached on a port of
/// 127.0.0.1 (qemu user networking with restrict=on, so the VM reaches nothing outside; DNAT
/// inside); the real servers, as on a real private network, only through the director.
public struct VMLab: Sendable {
    public let folder: String
    public let realServers: Int
    public let portBase: Int
    public let topology: LabTopology
    /// The lab helpers' connections, open from one command to the next (see `LabConnections`).
    public let connections = LabConnections()

    public static var defaultFolder: String {
        ProcessInfo.processInfo.environment["LVSCTL_LAB_VM_DIR"] ?? "/var/tmp/lvsctl-lab"
    }

    public init(folder: String = VMLab.defaultFolder, realServers: Int = 2, portBase: Int = 2200) {
        self.folder = folder
        self.realServers = realServers
        self.portBase = portBase
        self.topology = LabTopology.lvs(realServers: realServers)
    }

    /// Hosts reached directly; the others (the real servers) only through the director.
    static let forwardedNames = ["client", "director", "director2"]

    /// 127.0.0.1 port of a lab host reached from outside: client 2201, director 2202, director2 2203.
    public func port(of host: String) -> Int {
        portBase + 1 + (Self.forwardedNames.firstIndex(of: host) ?? 1)
    }

    var forwarded: [LabTopology.Host] { topology.hosts.filter { Self.forwardedNames.contains($0.spec.name) } }
    func isForwarded(_ host: String) -> Bool { Self.forwardedNames.contains(host) }

    /// How lvsctl's inventories and the lab's own helpers name and reach each host.
    public func inventoryHost(_ name: String) -> InventoryHost {
        let location = SourceLocation(file: "\(folder)/lab", line: 1, column: 1)
        guard !isForwarded(name), let host = topology.hosts.first(where: { $0.spec.name == name }) else {
            return InventoryHost(name: name, address: "127.0.0.1", port: port(of: name), identityFile: keyFile, location: location)
        }
        return InventoryHost(name: name, address: host.sshAddress, identityFile: keyFile, jump: "director", location: location)
    }

    /// Reaches lab hosts (the real servers through one shared connection to the director).
    public var access: HostAccess {
        var access = HostAccess(knownHostsFiles: [knownHostsFile])
        access.inventoryHosts = Dictionary(uniqueKeysWithValues: topology.hosts.map { ($0.spec.name, inventoryHost($0.spec.name)) })
        access.connectTimeout = .seconds(10)
        access.handshakeTimeout = .seconds(30)
        return access
    }

    public var keyFile: String { "\(folder)/id_ed25519" }
    public var knownHostsFile: String { "\(folder)/known_hosts" }
    public var pidFile: String { "\(folder)/qemu.pid" }
    public var consoleLog: String { "\(folder)/console.log" }

    public var sshOptions: SSHOptions {
        .lab(knownHosts: knownHostsFile, key: keyFile, connectTimeout: .seconds(10), handshakeTimeout: .seconds(30))
    }


    // MARK: - Up

    /// Boots the lab; answers once every lab host's sshd answers. `log` gets progress lines.
    public func up(accelerator: String? = nil, log: @escaping @Sendable (String) -> Void) async throws {
        if isRunning { throw LabError("a lab VM is already running (pid \(pid ?? 0)); `lvsctl lab down` first") }
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let kernel = try await LabKernel.prepare(log: log)
        try await prepareFolder()
        var accel = accelerator ?? ""
        if accel.isEmpty { accel = try await Self.accelerator(kernel, log: log) }
        let clock = ContinuousClock(), started = clock.now
        log("booting the lab VM (\(accel), \(realServers) real servers)")
        try await Shell.bashChecked(qemuCommand(kernel, accelerator: accel), what: "starting qemu")
        try await waitUntilReady(timeout: .seconds(240), log: log)
        log("lab ready in \(Int((clock.now - started).components.seconds)) s")
    }

    /// Keys, known_hosts and the scripts the guest runs, all made here (the guest sees this
    /// folder read-only over 9p).
    func prepareFolder() async throws {
        let setup = topology.setupScript(directory: "/run/lab", password: "lab-" + UUID().uuidString.prefix(12).lowercased()) { _ in "ignored" }
        try setup.write(toFile: "\(folder)/setup.sh", atomically: true, encoding: .utf8)
        var keys = "set -e\ncd \(Shell.quote(folder))\nssh-keygen -q -t ed25519 -N '' -C lvsctl-lab -f id_ed25519\ncp id_ed25519.pub authorized_keys\n: > known_hosts\n"
        for host in topology.hosts {
            keys += "mkdir -p \(host.spec.name)\nssh-keygen -q -t ed25519 -N '' -C \(host.spec.name) -f \(host.spec.name)/ssh_host_ed25519_key\n"
            // Named as lvsctl dials them: a forwarded port, or the private address seen from the director.
            let name = isForwarded(host.spec.name) ? "[127.0.0.1]:\(port(of: host.spec.name))" : host.sshAddress
            keys += "awk '{print \"\(name)\", $1, $2}' \(host.spec.name)/ssh_host_ed25519_key.pub >> known_hosts\n"
        }
        try await Shell.bashChecked(keys, what: "making the lab's keys")
        try guestInit().write(toFile: "\(folder)/guest-init.sh", atomically: true, encoding: .utf8)
        chmod("\(folder)/guest-init.sh", 0o755)
        try sshConfig().write(toFile: "\(folder)/ssh_config", atomically: true, encoding: .utf8)
        for mode in ["nat", "dr", "tun"] {
            try inventory(mode: mode, metrics: true).write(toFile: "\(folder)/lab-\(mode).yml", atomically: true, encoding: .utf8)
        }
        try haInventory().write(toFile: "\(folder)/lab-ha-dr.yml", atomically: true, encoding: .utf8)
        try ecmpInventory(moreDirectors: ["director2", "director3"]).write(toFile: "\(folder)/lab-ecmp.yml", atomically: true, encoding: .utf8)
    }

    func guestInit() -> String {
        let dnat = forwarded.map {
            "$IPT -t nat -A PREROUTING -i eth0 -p tcp --dport \(port(of: $0.spec.name)) -j DNAT --to-destination \($0.sshAddress):22"
        }.joined(separator: "\n")
        return """
        #!/bin/bash
        # PID 1 of the lab VM, written by `lvsctl lab up`.
        export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
        log() { echo "[lab $(cut -d' ' -f1 /proc/uptime)] $*" > /dev/console; }
        fail() { log "LAB FAILED: $*"; echo o > /proc/sysrq-trigger; sleep 10; }
        mkdir -p /dev/pts /dev/shm
        mount -t devpts devpts /dev/pts -o gid=5,mode=620,ptmxmode=666
        mount -t tmpfs tmpfs /dev/shm
        mount -t tmpfs -o mode=755 tmpfs /run
        mount -t tmpfs -o mode=1777 tmpfs /tmp
        # A clean root home: this machine's /root/.bashrc runs slow setup on every command.
        mount -t tmpfs -o mode=700 tmpfs /root
        : > /root/.bashrc; : > /root/.profile
        mkdir -p /run/lab /run/sshd /run/netns
        cp -a "$LAB_STATE"/. /run/lab/ && chmod 700 /run/lab || fail "copying the lab folder"
        rm -f /run/lab/known_hosts   # made for the outside; the guest does not need it
        echo labvm > /proc/sys/kernel/hostname
        # Modules are shared by all lab hosts (one kernel): load IPVS, its schedulers and ipip now,
        # so no lab host's `down` unloads what another still uses; and what iptables-nft and ss
        # load on first use (a snapshot before and one after would differ by them).
        modprobe -a virtio_net veth bridge ipip ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr \\
          ip_vs_dh ip_vs_sh ip_vs_sed ip_vs_nq ip_vs_fo ip_vs_ovf ip_vs_mh nf_nat iptable_nat iptable_mangle \\
          iptable_filter xt_nat xt_MASQUERADE xt_mark xt_multiport ip6_tables ip6table_mangle ip6table_filter nfnetlink nf_tables \\
          nft_compat nft_chain_nat inet_diag tcp_diag udp_diag || log "some modules did not load"
        ip link set lo up
        ip link set eth0 up
        ip addr add 10.0.2.15/24 dev eth0   # no default route: nothing outside the VM is reachable
        for k in net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \\
                 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0 \\
                 net.ipv6.conf.all.forwarding=1 net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0; do sysctl -qw $k; done
        bash /run/lab/setup.sh > /run/lab/setup.log 2>&1 || { cat /run/lab/setup.log > /dev/console; fail "building the lab hosts"; }
        IPT=iptables; command -v iptables-legacy >/dev/null && IPT=iptables-legacy
        $IPT -t nat -A POSTROUTING -s 10.0.2.0/24 -o br-+ -j MASQUERADE
        \(dnat)
        # Never outlive the lab's purpose, even if nobody runs `lvsctl lab down`.
        (sleep "${LAB_LIFETIME:-14400}"; echo o > /proc/sysrq-trigger) &
        log "LAB READY"
        trap 'echo o > /proc/sysrq-trigger' TERM INT
        while :; do sleep 3600 & wait $!; done

        """
    }

    func qemuCommand(_ kernel: LabKernel, accelerator: String) -> String {
        let forwards = forwarded.map { "hostfwd=tcp:127.0.0.1:\(port(of: $0.spec.name))-:\(port(of: $0.spec.name))" }.joined(separator: ",")
        let accel = accelerator == "kvm" ? "-accel kvm -cpu host" : "-accel tcg,tb-size=256 -cpu max"
        // norandmaps: emulation keys its translated code by virtual address, so with every
        // process's libraries mapped at random addresses each exec translates ld.so and libc
        // again. Without it an exec costs half (/bin/true 29 -> 13 ms, `ip -o addr` 53 -> 30 ms)
        // and so do lvsctl's verbs on the lab (DR, three real servers: first up 8.3 -> 4.7 s,
        // no-op up 3.9 -> 2.0 s, down 4.6 -> 2.3 s). A lab guest has nothing to protect.
        return """
        qemu-system-x86_64 \(accel) -smp 2 -m 512 -no-reboot -display none -daemonize \\
          -kernel \(Shell.quote(kernel.vmlinuz)) -initrd \(Shell.quote(kernel.initramfs)) \\
          -append \(Shell.quote("console=ttyS0 quiet panic=-1 norandmaps LAB_INIT=\(folder)/guest-init.sh LAB_STATE=\(folder)")) \\
          -serial file:\(Shell.quote(consoleLog)) -pidfile \(Shell.quote(pidFile)) \\
          -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \\
          -netdev user,id=n0,restrict=on,ipv6=off,\(forwards) -device virtio-net-pci,netdev=n0
        """
    }

    /// KVM only when a short boot proves it works (here /dev/kvm exists but a guest hangs);
    /// otherwise software emulation. The answer is remembered beside the kernel.
    static func accelerator(_ kernel: LabKernel, log: (String) -> Void) async throws -> String {
        guard FileManager.default.fileExists(atPath: "/dev/kvm") else { return "tcg" }
        let remembered = "\(kernel.folder)/kvm-probe"
        if let answer = try? String(contentsOfFile: remembered, encoding: .utf8) { return answer.trimmingCharacters(in: .whitespacesAndNewlines) }
        log("probing KVM (a 20 s test boot, once)")
        let probe = try await Shell.bash("""
            timeout 20 qemu-system-x86_64 -accel kvm -cpu host -m 256 -no-reboot -display none -nodefaults -serial stdio \\
              -kernel \(Shell.quote(kernel.vmlinuz)) -initrd \(Shell.quote(kernel.initramfs)) -append 'console=ttyS0 quiet LAB_PROBE=1' 2>&1 | grep -q LAB-PROBE-OK
            """)
        let answer = probe.succeeded ? "kvm" : "tcg"
        try? answer.write(toFile: remembered, atomically: true, encoding: .utf8)
        return answer
    }

    func waitUntilReady(timeout: Duration, log: (String) -> Void) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let console = (try? String(contentsOfFile: consoleLog, encoding: .utf8)) ?? ""
            if console.contains("LAB FAILED") { throw LabError("the lab VM failed to start:\n\(console.suffix(2000))") }
            if console.contains("LAB READY") {
                // The console says ready; prove it: every host answers over SSH.
                let access = self.access
                for host in topology.hosts { await (try await access.connect(inventoryHost(host.spec.name))).close() }
                await access.jumpPool.closeAll()
                return
            }
            guard isRunning else { throw LabError("qemu exited while the lab was starting:\n\(console.suffix(2000))") }
            try await Task.sleep(for: .milliseconds(300))
        }
        throw LabError("the lab VM was not ready within \(timeout); see \(consoleLog)")
    }

    // MARK: - Down and status

    public var pid: Int32? {
        (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    public var isRunning: Bool {
        guard let pid else { return false }
        return kill(pid, 0) == 0
    }

    /// Stops qemu (by the PID it wrote) and removes the lab folder; also cleans a half-built lab.
    public func down() async throws {
        await connections.closeAll()
        if let pid, kill(pid, 0) == 0 {
            kill(pid, SIGTERM)
            for _ in 0..<50 where kill(pid, 0) == 0 { try await Task.sleep(for: .milliseconds(100)) }
            if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    // MARK: - What the lab writes for its users

    func sshConfig() -> String {
        var text = "# Written by `lvsctl lab up`: ssh -F \(folder)/ssh_config director\n"
        for host in topology.hosts {
            let reach = isForwarded(host.spec.name) ? "HostName 127.0.0.1\n  Port \(port(of: host.spec.name))"
                : "HostName \(host.sshAddress)\n  ProxyJump director"
            text += """
            Host \(host.spec.name)
              \(reach)
              User root
              IdentityFile \(keyFile)
              IdentitiesOnly yes
              UserKnownHostsFile \(knownHostsFile)
              StrictHostKeyChecking yes

            """
        }
        return text
    }

    /// The lab's DR cluster run by keepalived: director and director2 sharing the VIP by VRRP
    /// with connection sync, real servers checked over HTTP every `interval` seconds, and (with
    /// three real servers or more) the last one as the sorry server.
    /// In NAT the real servers' gateway is 10.0.0.3, which VRRP moves with the VIP.
    public func haInventory(mode: String = "dr", interval: Int = 1, advert: String = "1", preempt: Bool = true, sorry: Bool = true,
                            scheduler: String = "rr", metrics: Bool = true) -> String {
        let names = realServerNames
        let sorryHost = sorry && names.count >= 3 ? names.last : nil
        let servers = sorryHost.map { last in names.filter { $0 != last } } ?? names
        var settings = ["health_check: { type: http, path: /, status: [200], text: I am, interval: \(interval), timeout: 1, retries: 1, retry_delay: 1 }"]
        if let sorryHost { settings.append("sorry_server: { host: \(sorryHost) }") }
        let version = advert.contains(".") ? ", version: 3" : ", auth: lvs-lab"
        let gateway = mode == "nat" ? ", gateway: 10.0.0.3/24" : ""
        return inventory(mode: mode, scheduler: scheduler, servers: servers, settings: settings,
                         vrrp: "{ router_id: 51, advert_int: \(advert)\(version), preempt: \(preempt), sync: true\(gateway) }", metrics: metrics)
    }

    /// A lab host's own address (the director's on the client's network).
    public func address(of host: String) -> String { topology.hosts.first { $0.spec.name == host }?.sshAddress ?? host }

    /// A ready inventory for one mode: the seed's roles on the lab's hosts. `servers` picks real
    /// servers by name (default: all of the lab's), `weights` gives some a weight, `settings`
    /// adds lines to the service (persistence…).
    /// `moreServices`: YAML list items appended to `services:`; `dip6` gives the director its
    /// lab IPv6 DIP (fd00:2::1/64); `vrrp` (a YAML mapping) makes director and director2 a
    /// keepalived pair; `bgp` (a YAML mapping) makes the director and `moreDirectors`
    /// active-active directors instead (none: the director alone, as before others join);
    /// `metrics` asks for node exporter on the director.
    public func inventory(mode: String, scheduler: String = "rr", servers: [String]? = nil, weights: [String: Int] = [:],
                          vip: String = "192.168.0.200", settings: [String] = [], moreServices: String = "", dip6: Bool = false,
                          serverSettings: [String: String] = [:], vrrp: String? = nil, bgp: String? = nil,
                          moreDirectors: [String] = ["director2"], metrics: Bool = false) -> String {
        let pair = vrrp.map { "vrrp: \($0)" } ?? bgp.map { "bgp: \($0)" }
        // The further directors as the topology has them (eth1's address their DIP).
        let further = moreDirectors.compactMap { name -> String? in
            guard let dip = topology.hosts.first(where: { $0.spec.name == name })?.interfaces.last?.address else { return nil }
            return "    - { host: \(name), interface: eth0, inner_interface: eth1, dip: \(dip) }\n"
        }
        let hosts = topology.hosts.map { host in
            let entry = inventoryHost(host.spec.name)
            return "  \(entry.name): { address: \(entry.address)" + (entry.port.map { ", port: \($0)" } ?? "")
                + (entry.jump.map { ", jump: \($0)" } ?? "") + ", identity: \(keyFile) }"
        }
        let all = topology.hosts.filter { $0.spec.name.hasPrefix("rs") }
        let chosen = servers.map { names in names.compactMap { name in all.first { $0.spec.name == name } } } ?? all
        let lines = chosen.map { host in
            let weight = weights[host.spec.name].map { ", weight: \($0)" } ?? ""
            let more = serverSettings[host.spec.name].map { ", \($0)" } ?? ""
            return "        - { host: \(host.spec.name), rip: \(host.sshAddress)\(weight)\(more) }"
        }
        return """
        # Written by `lvsctl lab up`: the lab's \(mode.uppercased()) cluster.
        #   lvsctl up -i \(folder)/lab-\(mode).yml && lvsctl verify -i \(folder)/lab-\(mode).yml
        ssh:
          known_hosts: known_hosts
        hosts:
        \(hosts.joined(separator: "\n"))
        cluster:
          mode: \(mode)
        \(pair == nil ? "" : "  directors:\n    - ")\(pair == nil ? "  director: " : ""){ host: director, interface: eth0, inner_interface: eth1, dip: 10.0.0.1/24\(dip6 ? ", dip6: \"fd00:2::1/64\"" : "") }
        \(pair.map { further.joined() + "  \($0)" } ?? "")
          client: client
        \(metrics ? "  metrics: true          # node exporter on each director's port 9100\n" : "")  services:
            - vip: \(vip)
              port: 80
              scheduler: \(scheduler)
        \(settings.map { "      \($0)\n" }.joined())      real_servers:
        \(lines.joined(separator: "\n"))
        \(moreServices)
        """
    }
}
