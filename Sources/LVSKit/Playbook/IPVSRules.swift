/// A virtual service as ipvsadm sees it: the commands that create it, and the lines
/// `ipvsadm -S -n` prints for it (which `ipvsadm -R` reads back).
public struct IPVSRules: Sendable {
    public let service: VirtualService
    public let mode: ForwardingMode

    public init(service: VirtualService, mode: ForwardingMode) {
        self.service = service
        self.mode = mode
    }

    /// `-t VIP:port`, `-u VIP:port` or `-f mark` as two words.
    public var flag: String { service.address.ipvsadmArguments[0] }
    public var address: String { service.address.ipvsadmArguments[1] }

    /// `-M` as ipvsadm prints it: dotted for IPv4, a prefix length for IPv6; nil for one host.
    public var netmask: String? {
        guard service.persistence != nil, let prefix = service.persistenceNetmask else { return nil }
        if service.vip.isV6 { return prefix == 128 ? nil : String(prefix) }
        return prefix == 32 ? nil : Netmask.dotted(prefix: prefix)
    }

    public func server(_ server: RealServer) -> String { server.rip.withPort(server.port) }

    /// The lines of `ipvsadm -S -n` for this service (sorted as ipvsadm sorts them doesn't
    /// matter: the check compares sorted sets).
    public var saveLines: [String] {
        var head = "-A \(flag) \(address) -s \(service.scheduler.rawValue)"
        if let timeout = service.persistence { head += " -p \(timeout)" }
        if let netmask { head += " -M \(netmask)" }
        let servers = service.realServers.map {
            "-a \(flag) \(address) -r \(server($0)) \(mode.ipvsadmFlag) -w \($0.weight)"
        }
        return [head] + servers
    }

    /// `RIP:port upper lower` per real server, as `ipvsadm -L -n --thresholds` lists them.
    public var thresholdLines: [String] {
        service.realServers.map { "\(server($0)) \($0.upperThreshold) \($0.lowerThreshold)" }
    }

    /// What `grep -F` finds this service's lines by in `ipvsadm -S -n` (the trailing space keeps
    /// `:80` from matching `:8080`).
    public var match: String { "\(flag) \(address) " }
}
