/// A kernel parameter under /proc/sys (`net/ipv4/conf/all/arp_ignore`) and its value.
public struct Sysctl: Hashable, Sendable {
    public var path: String
    public var value: String
    /// sysctl(8)'s name: dots between levels, and a dot inside a level (`eth0.100`) as a slash.
    public var name: String {
        path.split(separator: "/").map { $0.replacingOccurrences(of: ".", with: "/") }.joined(separator: ".")
    }
}

/// An address on a device, with the alias label the seed's ifconfig gave it (`lo:0`); IPv6
/// addresses have no labels.
public struct InterfaceAddress: Hashable, Sendable {
    public var device: String
    public var address: IPAddress
    public var prefix: Int
    public var label: String?
}

/// A route: to one host through a device, or the default route through a gateway.
public struct Route: Hashable, Sendable {
    public enum Target: Hashable, Sendable { case host(IPAddress), defaultRoute }
    public var target: Target
    public var device: String?
    public var gateway: IPAddress?
    public var family: IPAddress.Family = .v4
}

/// What `lvsctl up` makes true on a host, typed: built-in kinds have their own shape (and the
/// template of the same name holds their shell); a template a user added is a `custom` step
/// whose identity its template declares.
public enum ResourceValue: Hashable, Sendable {
    case sysctl(Sysctl)
    case address(InterfaceAddress)
    case route(Route)
    case module(name: String)
    case package(command: String, package: String)
    case linkUp(device: String)
    case file(path: String, content: String, mode: String)
    case webServer(port: Int, root: String)
    /// `command`: iptables or ip6tables.
    case firewallRule(command: String, table: String, chain: String, rule: [String])
    case firewallFlush(table: String)
    case selinuxPermissive
    case ipvsService(IPVSService)
    case ipvsTimeouts(IPVSTimeouts)
    /// keepalived running with this configuration file.
    case keepalived(path: String, content: String)
    /// bird2 running with this configuration file (active-active directors' BGP speaker).
    case bird(path: String, content: String)
    /// Prometheus' node exporter answering on this port.
    case nodeExporter(port: Int)
    case custom(template: String, identity: String, parameters: [String: String])

    public var id: ResourceID {
        switch self {
        case let .sysctl(sysctl): return ResourceID(kind: "sysctl", key: sysctl.name)
        case let .address(a): return ResourceID(kind: "address", key: "\(a.device) \(a.address)/\(a.prefix)")
        case let .route(route):
            switch route.target {
            case let .host(address): return ResourceID(kind: "route", key: "\(address)/\(address.bitCount)")
            case .defaultRoute: return ResourceID(kind: "route", key: route.family == .v6 ? "default ipv6" : "default")
            }
        case let .module(name): return ResourceID(kind: "module", key: name)
        case let .package(command, _): return ResourceID(kind: "package", key: command)
        case let .linkUp(device): return ResourceID(kind: "link", key: device)
        case let .file(path, _, _): return ResourceID(kind: "file", key: path)
        case let .webServer(port, _): return ResourceID(kind: "web-server", key: String(port))
        case let .firewallRule(command, table, chain, rule): return ResourceID(kind: command, key: ([table, chain] + rule).joined(separator: " "))
        case let .firewallFlush(table): return ResourceID(kind: "iptables-flush", key: table)
        case .selinuxPermissive: return ResourceID(kind: "selinux", key: "mode")
        case let .ipvsService(service): return service.key.resourceID
        case .ipvsTimeouts: return ResourceID(kind: "ipvs-timeouts", key: "tcp tcpfin udp")
        case let .keepalived(path, _): return ResourceID(kind: "keepalived", key: path)
        case let .bird(path, _): return ResourceID(kind: "bird", key: path)
        case let .nodeExporter(port): return ResourceID(kind: "node-exporter", key: "port \(port)")
        case let .custom(template, identity, _): return ResourceID(kind: template, key: identity)
        }
    }

    /// The wanted value in words: what plan shows after `→`, and what a host's record keeps as
    /// "applied" so the next plan can say what changed.
    public var wanted: Difference {
        switch self {
        case let .sysctl(sysctl): return Difference("", to: sysctl.value)
        case let .address(a): return a.label.map { Difference("label", to: $0) } ?? Difference("", to: "present")
        case let .route(route):
            if let gateway = route.gateway { return Difference("", to: "via \(gateway)") }
            return Difference("", to: "dev \(route.device ?? "?")")
        case .module: return Difference("", to: "loaded")
        case .package: return Difference("", to: "installed")
        case .linkUp: return Difference("", to: "up")
        case let .file(_, content, mode): return Difference("", to: Self.excerpt(content) + " (mode \(mode))")
        case let .webServer(_, root): return Difference("serving", to: root)
        case .firewallRule: return Difference("", to: "present")
        case .firewallFlush: return Difference("", to: "no rules")
        case .selinuxPermissive: return Difference("", to: "permissive")
        case let .ipvsService(service): return Difference("scheduler", to: service.scheduler)
        case let .ipvsTimeouts(timeouts): return Difference("", to: timeouts.words)
        case let .keepalived(_, content): return Difference("running", to: Self.digest(content, counting: "virtual_server ", noun: "virtual server"))
        case let .bird(_, content): return Difference("running", to: Self.digest(content, counting: "protocol static ", noun: "VIP"))
        case .nodeExporter: return Difference("", to: "answering")
        case let .custom(_, _, parameters):
            return Difference("", to: parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
    }

    /// What the host has now, in the same words as `value`, from the first line of the
    /// template's capture output; nil where the two do not compare (an address is there or not).
    public func current(fromCapture line: String) -> String? {
        switch self {
        case .sysctl: return line
        case let .route(route):
            if line.isEmpty { return "none" }
            let words = line.split(separator: " ").map(String.init)
            if route.gateway != nil, let at = words.firstIndex(of: "via"), at + 1 < words.count { return "via \(words[at + 1])" }
            if let at = words.firstIndex(of: "dev"), at + 1 < words.count { return "dev \(words[at + 1])" }
            return line
        case .selinuxPermissive: return line.lowercased()
        case let .ipvsTimeouts(wanted): return IPVSAdm.parseTimeouts(line).map { $0.comparable(to: wanted).words }
        default: return nil
        }
    }

    /// A configuration in a few words: how many virtual servers (keepalived) or VIPs (bird, a
    /// static protocol each), its VRRP priority, and a fingerprint (so any edit reads as a
    /// change, not as drift).
    static func digest(_ config: String, counting prefix: String, noun: String) -> String {
        let lines = config.split(separator: "\n")
        let servers = lines.filter { $0.hasPrefix(prefix) }.count
        let priority = lines.first { $0.hasPrefix("    priority ") }.map { ", VRRP priority " + $0.split(separator: " ").last! } ?? ""
        var hash: UInt32 = 2_166_136_261   // FNV-1a: a fingerprint, not a security measure
        for byte in config.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return "config \(String(hash, radix: 16)): \(servers) \(noun)\(servers == 1 ? "" : "s")\(priority)"
    }

    static func excerpt(_ text: String) -> String {
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let short = line.count > 40 ? String(line.prefix(39)) + "…" : line
        return "\"" + short + "\"" + (line.count < text.count ? " …" : "")
    }
}

extension ResourceValue {
    /// The typed value of a playbook step: built-in templates by name, any other through the
    /// `identity` its template declares.
    static func make(template: StepTemplate, parameters: [String: Any], identity: String?, step: String) throws -> ResourceValue {
        func text(_ name: String) throws -> String {
            guard let value = parameters[name].flatMap(scalarText) else {
                throw PlaybookError.badParameter(step: step, parameter: name, reason: "missing or not text")
            }
            return value
        }
        // A parameter that is exactly one fact arrives typed; text comes from a template's own
        // literal (a user's template), and is read as the type it must be.
        func address(_ name: String) throws -> IPAddress {
            if let address = parameters[name] as? IPAddress { return address }
            let raw = try text(name)
            guard case let .success(address) = IPAddress.parse(raw) else {
                throw PlaybookError.badParameter(step: step, parameter: name, reason: "'\(raw)' is not an IP address")
            }
            return address
        }
        func number(_ name: String) throws -> Int {
            if let number = parameters[name] as? Int { return number }
            let raw = try text(name)
            guard let value = Int(raw) else { throw PlaybookError.badParameter(step: step, parameter: name, reason: "'\(raw)' is not a number") }
            return value
        }
        guard let kind = template.resource else {
            guard let identity else { throw PlaybookError.noIdentity(template: template.name) }
            return .custom(template: template.name, identity: identity, parameters: parameters.compactMapValues(scalarText))
        }
        switch kind {
        case .sysctl: return .sysctl(Sysctl(path: try text("path"), value: try text("value")))
        case .address:
            return .address(InterfaceAddress(device: try text("device"), address: try address("address"), prefix: try number("prefix"),
                                             label: parameters["label"].flatMap(scalarText)))
        case .hostRoute:
            let target = try address("address")
            return .route(Route(target: .host(target), device: try text("device"), family: target.family))
        case .defaultRoute:
            let gateway = try address("gateway")
            return .route(Route(target: .defaultRoute, gateway: gateway, family: gateway.family))
        case .module: return .module(name: try text("module"))
        case .package: return .package(command: try text("command"), package: try text("package"))
        case .linkUp: return .linkUp(device: try text("device"))
        case .file: return .file(path: try text("path"), content: try text("content"), mode: try text("mode"))
        case .keepalived: return .keepalived(path: try text("path"), content: try text("content"))
        case .bird: return .bird(path: try text("path"), content: try text("content"))
        case .nodeExporter: return .nodeExporter(port: try number("port"))
        case .webServer: return .webServer(port: try number("port"), root: try text("root"))
        case .firewallRule:
            guard let rule = parameters["rule"] as? [Any] else { throw PlaybookError.badParameter(step: step, parameter: "rule", reason: "not a list") }
            return .firewallRule(command: try text("command"), table: try text("table"), chain: try text("chain"), rule: rule.map { "\($0)" })
        case .firewallFlush: return .firewallFlush(table: try text("table"))
        case .selinuxPermissive: return .selinuxPermissive
        case .ipvsTimeouts:
            // 0: left as the host has it.
            func seconds(_ name: String) throws -> Int? { let value = try number(name); return value == 0 ? nil : value }
            return .ipvsTimeouts(IPVSTimeouts(tcp: try seconds("tcp"), tcpFin: try seconds("tcpfin"), udp: try seconds("udp")))
        }
    }
}

/// A parameter's text: text itself, or a typed scalar fact in the words templates render it
/// in; nil for a list or a structured value.
func scalarText(_ value: Any) -> String? {
    switch value {
    case let text as String: return text
    case let address as IPAddress: return address.description
    case let number as Int: return String(number)
    default: return nil
    }
}
